"""The first migration builds exactly Prisma's schema; a Prisma-made database is adopted as is."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command

from tests.conftest import ROOT, alembic_config, function_client, migrate

PRISMA_TABLES = ("UserSubscription", "ReviewHistory", "ReviewFeedback", "ApiUsage")
# The newer front end's schema.prisma adds ApiKey (our migration 0003).
NEWER_PRISMA_TABLES = ("ApiKey",)
BASELINE = "0001_prisma_baseline"
PRISMA_SQL = ("prisma_migration.sql",)
NEWER_PRISMA_SQL = ("prisma_migration.sql", "prisma_api_key.sql")
# What later revisions add to Prisma's tables (additions only: nothing of Prisma's changes).
OUR_INDEXES = {
    ("ReviewFeedback", "ReviewFeedback_userId_reviewId_key"): (
        'CREATE UNIQUE INDEX "ReviewFeedback_userId_reviewId_key" ON public."ReviewFeedback" USING btree ("userId", "reviewId")'
    ),
}


def schema_of(url: str, tables: tuple[str, ...] = PRISMA_TABLES) -> dict:
    """Columns (type, precision, nullability, default), indexes and constraints of Prisma's tables."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            """SELECT table_name, column_name, data_type, udt_name, datetime_precision, is_nullable, column_default
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)
               ORDER BY table_name, ordinal_position""",
            (list(tables),),
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"
            " ORDER BY indexname",
            (list(tables),),
        ).fetchall()
        constraints = conn.execute(
            """SELECT conrelid::regclass::text, conname, contype FROM pg_constraint
               WHERE connamespace = 'public'::regnamespace ORDER BY conname"""
        ).fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def prisma_database(url: str, files: tuple[str, ...] = PRISMA_SQL) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in files:
            conn.execute((ROOT / "tests/fixtures" / name).read_text())


def prisma_reference(files: tuple[str, ...], tables: tuple[str, ...]):
    from tests.conftest import create_database, drop_database

    reference = create_database("crv_prisma")
    try:
        prisma_database(reference, files)
        yield schema_of(reference, tables)
    finally:
        drop_database(reference)


@pytest.fixture(scope="module")
def prisma_schema():
    """The schema of a database built by Prisma's own migration SQL."""
    yield from prisma_reference(PRISMA_SQL, PRISMA_TABLES)


@pytest.fixture(scope="module")
def newer_prisma_schema():
    """The ApiKey table as the newer front end's Prisma migration builds it."""
    yield from prisma_reference(NEWER_PRISMA_SQL, NEWER_PRISMA_TABLES)


def prisma_constraints(schema: dict, tables: tuple[str, ...] = PRISMA_TABLES) -> list:
    quoted = {f'"{name}"' for name in tables}
    return [c for c in schema["constraints"] if c[0] in quoted]


@pytest.mark.parametrize("revision", [BASELINE, "head"])
def test_migrations_build_prismas_schema_exactly(empty_pg_url, prisma_schema, revision):
    """The baseline on an empty database is Prisma's schema, and later revisions leave it unchanged."""
    migrate(empty_pg_url, revision)
    ours = schema_of(empty_pg_url)
    assert ours["columns"] == prisma_schema["columns"]
    added = {(table, name): sql for table, name, sql in ours["indexes"] if (table, name) in OUR_INDEXES}
    assert added == ({} if revision == BASELINE else OUR_INDEXES)
    assert [index for index in ours["indexes"] if index[:2] not in OUR_INDEXES] == prisma_schema["indexes"]
    assert prisma_constraints(ours) == prisma_constraints(prisma_schema)
    # Spot checks that make a failure easy to read.
    columns = {(t, c): (dt, udt, prec, null, default) for t, c, dt, udt, prec, null, default in ours["columns"]}
    assert columns[("ReviewHistory", "reviewModes")][:2] == ("ARRAY", "_text")
    assert columns[("ReviewHistory", "timestamp")] == (
        "timestamp without time zone",
        "timestamp",
        3,
        "NO",
        "CURRENT_TIMESTAMP",
    )
    assert columns[("UserSubscription", "cancelAtPeriodEnd")][3:] == ("NO", "false")
    names = {name for _, name, _ in ours["indexes"]}
    assert {"ReviewHistory_userId_timestamp_idx", "UserSubscription_userId_key", "ApiUsage_pkey"} <= names


def test_api_key_table_is_built_as_prismas(empty_pg_url, newer_prisma_schema):
    migrate(empty_pg_url)
    ours = schema_of(empty_pg_url, NEWER_PRISMA_TABLES)
    assert ours["columns"] == newer_prisma_schema["columns"]
    assert ours["indexes"] == newer_prisma_schema["indexes"]
    assert prisma_constraints(ours, NEWER_PRISMA_TABLES) == prisma_constraints(newer_prisma_schema, NEWER_PRISMA_TABLES)
    names = {name for _, name, _ in ours["indexes"]}
    assert names == {"ApiKey_pkey", "ApiKey_keyHash_key", "ApiKey_userId_idx", "ApiKey_keyHash_idx"}
    columns = {c: (null, default) for _, c, _, _, _, null, default in ours["columns"]}
    assert columns["isActive"] == ("NO", "true")
    assert columns["lastUsed"] == ("YES", None)


def test_newer_prisma_database_keeps_its_api_keys(empty_pg_url, newer_prisma_schema):
    """A database the newer front end made already has ApiKey: 0003 adopts it, rows and all."""
    prisma_database(empty_pg_url, NEWER_PRISMA_SQL)
    with psycopg.connect(empty_pg_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO "ApiKey" ("id", "userId", "keyHash", "name")
               VALUES ('cl0key00000000000000000', 'user_adopt', 'abc123', 'CI')"""
        )
    config = alembic_config(empty_pg_url)
    command.stamp(config, BASELINE)
    command.upgrade(config, "head")
    assert schema_of(empty_pg_url, NEWER_PRISMA_TABLES)["columns"] == newer_prisma_schema["columns"]
    with psycopg.connect(empty_pg_url) as conn:
        assert conn.execute('SELECT "name", "isActive" FROM "ApiKey"').fetchall() == [("CI", True)]


def test_prisma_created_database_is_adopted_and_read(empty_pg_url, settings_env):
    prisma_database(empty_pg_url)
    with psycopg.connect(empty_pg_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO "ReviewHistory" ("id", "userId", "type", "language", "reviewModes", "timestamp",
                   "codeSnippet", "feedback")
               VALUES ('cl0prisma000000000000000', 'user_adopt', 'code', 'python', ARRAY['security','performance'],
                       '2025-11-22 22:39:06.123', 'print(1)', '## Looks fine')"""
        )
    config = alembic_config(empty_pg_url)
    command.stamp(config, BASELINE)
    command.upgrade(config, "head")

    settings_env(DATABASE_URL=empty_pg_url)
    response = function_client("history").get("/", headers={"X-Dev-User": "user_adopt"})
    assert response.status_code == 200, response.json
    [item] = response.json["history"]
    assert item == {
        "id": "cl0prisma000000000000000",
        "type": "code",
        "language": "python",
        "reviewModes": ["security", "performance"],
        "timestamp": 1763851146123,
        "codeSnippet": "print(1)",
        "feedback": "## Looks fine",
        "repoUrl": None,
        "fileName": "Unknown",
        "code": "print(1)",
        "mode": ["security", "performance"],
        "reviewType": "file",
    }
    # And a row we write reads back in Prisma's types (TEXT[] modes, millisecond timestamps).
    created = function_client("history").post(
        "/",
        json={"type": "file", "reviewModes": ["bug_fixes"], "feedback": "ok", "fileName": "a.py"},
        headers={"X-Dev-User": "user_adopt"},
    )
    assert created.status_code == 201
    with psycopg.connect(empty_pg_url) as conn:
        modes, stamp = conn.execute(
            'SELECT "reviewModes", "timestamp" FROM "ReviewHistory" WHERE id = %s', (created.json["id"],)
        ).fetchone()
    assert modes == ["bug_fixes"]
    assert stamp.microsecond % 1000 == 0


def test_adopting_a_database_with_duplicate_ratings_keeps_the_newest(empty_pg_url, capsys):
    prisma_database(empty_pg_url)
    ratings = [
        ("fb_old", "user_dup", "rev_1", 2, "2025-01-01 10:00:00"),
        ("fb_new", "user_dup", "rev_1", 5, "2025-01-02 10:00:00"),
        ("fb_mid", "user_dup", "rev_1", 3, "2025-01-01 12:00:00"),
        ("fb_tie_a", "user_dup", "rev_2", 1, "2025-01-03 10:00:00"),
        ("fb_tie_b", "user_dup", "rev_2", 4, "2025-01-03 10:00:00"),
        ("fb_other", "user_other", "rev_1", 4, "2025-01-01 10:00:00"),
        ("fb_none_1", "user_dup", None, 1, "2025-01-01 10:00:00"),
        ("fb_none_2", "user_dup", None, 2, "2025-01-01 11:00:00"),
    ]
    with psycopg.connect(empty_pg_url, autocommit=True) as conn:
        for row in ratings:
            conn.execute(
                'INSERT INTO "ReviewFeedback" (id, "userId", "reviewId", rating, "reviewType", "timestamp")'
                " VALUES (%s, %s, %s, %s, 'code', %s)",
                row,
            )
    config = alembic_config(empty_pg_url)
    command.stamp(config, BASELINE)
    command.upgrade(config, "head")
    with psycopg.connect(empty_pg_url) as conn:
        kept = {row[0] for row in conn.execute('SELECT id FROM "ReviewFeedback"')}
    # rows without a review are not duplicates of each other (NULLs are distinct, as in Prisma)
    assert kept == {"fb_new", "fb_tie_b", "fb_other", "fb_none_1", "fb_none_2"}
    assert "removed 3 older duplicate rating(s)" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["head"])
def test_migrations_run_on_sqlite(tmp_path, target):
    import sqlite3

    url = f"sqlite:///{tmp_path}/dev.sqlite3"
    config = alembic_config(url)
    command.upgrade(config, target)
    tables = {row[0] for row in sqlite3.connect(tmp_path / "dev.sqlite3").execute("SELECT name FROM sqlite_master")}
    assert set(PRISMA_TABLES) <= tables
    command.downgrade(config, "base")
    tables = {row[0] for row in sqlite3.connect(tmp_path / "dev.sqlite3").execute("SELECT name FROM sqlite_master")}
    assert not set(PRISMA_TABLES) & tables


def test_models_match_migrations_at_head(empty_pg_url):
    """Nothing in shared.models lacks a migration (alembic's autogenerate finds no difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from shared.models import load_all

    migrate(empty_pg_url)
    engine = create_engine(empty_pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), load_all())
    engine.dispose()
    assert diff == []


def test_migration_job_runs_with_only_what_deploy_gives_it(empty_pg_url):
    """deploy.sh's Cloud Run job has APP_ENV=production and DATABASE_URL, nothing else."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {"PATH": os.environ["PATH"], "APP_ENV": "production", "DATABASE_URL": empty_pg_url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with psycopg.connect(empty_pg_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()


def head_revision() -> str:
    """The newest migration's revision, as Alembic reads migrations/versions."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    return ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
