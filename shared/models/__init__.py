"""The tables, exactly as the TypeScript app's Prisma schema made them on PostgreSQL: table name =
model name, quoted camelCase columns, TEXT ids, TIMESTAMP(3), TEXT[] modes, Prisma's index names.
New tables (later migrations) follow the same conventions.

One module per table (`from shared.models.review_history import ReviewHistory`), so a function
pays at cold start for the tables it touches and no others: mapping one costs SQLAlchemy and
pydantic ~3 ms. `load_all()` registers every table on the metadata (Alembic, schema tests)."""

import importlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from shared.ids import cuid

# Prisma names a primary key "<Table>_pkey"; everything else is named explicitly in each table.
SQLModel.metadata.naming_convention = {"pk": "%(table_name)s_pkey"}

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
TextArray = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")

TABLES = (
    "user_subscription",
    "review_history",
    "review_feedback",
    "api_usage",
    "stripe_event",
    "review_cache",
    "api_key",
    "idempotency_key",
    "github_delivery",
    "github_installation",
    "github_review_run",
)


class TableModel(SQLModel):
    # Rows are read and written through SQLAlchemy, never validated or dumped by pydantic, so its
    # validators for the tables are built only if something asks for them.
    model_config = SQLModelConfig(defer_build=True)


def utcnow() -> datetime:
    """Prisma stores naive UTC with millisecond precision; so do we."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def id_field() -> Any:
    return Field(default_factory=cuid, primary_key=True, sa_type=sa.Text())


def created_field() -> Any:
    return Field(default_factory=utcnow, sa_type=Timestamp, sa_column_kwargs={"server_default": NOW})


def text(**kw: Any) -> Any:
    return Field(sa_type=sa.Text(), **kw)


def load_all() -> sa.MetaData:
    for module in TABLES:
        importlib.import_module(f"{__name__}.{module}")
    return SQLModel.metadata
