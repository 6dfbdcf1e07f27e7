"""Alembic environment: the URL comes from the app's settings, the target from SQLModel metadata."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from shared.config import get_settings, normalize_database_url
from shared.models import load_all

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = load_all()  # every table, registered on SQLModel's metadata


def _url() -> str:
    # The migration job has DATABASE_URL and nothing else: reading it directly keeps the job free
    # of the functions' other production requirements (Redis, Clerk). DIRECT_URL, when set, is
    # PostgreSQL itself where DATABASE_URL is a pooler: migrations go direct (docs/deploy.md).
    if config.attributes.get("url"):
        return config.attributes["url"]
    for name in ("DIRECT_URL", "DATABASE_URL"):
        if os.environ.get(name):
            return normalize_database_url(os.environ[name])
    return get_settings().sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    # Nothing prepared on the server: a run that reached a transaction-mode pooler after all (no
    # DIRECT_URL) must not leave statements on a server connection that live traffic gets next.
    connect_args = {"prepare_threshold": None} if url.startswith("postgresql+psycopg") else {}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
