"""History GET and cached review against their own SQL, interleaved in one run, on PostgreSQL
loaded with --rows ReviewHistory rows (COPY): --users users sharing them, one of whom has
--big-user rows, each with about 2 KB of feedback.

    .venv/bin/python benchmarks/history.py [--rows 1000000] [--rounds 1000] [--keep]

Prints p50s for:
- the history GET handler (through the endpoint: sign-in, limiter, query, shaping, usage row,
  log line) on the big user's first page and on a page 90% deep by cursor, and the raw SELECT each
  needs (psycopg, no ORM), with the ratio handler / (SELECT + one limiter decision);
- the steps: query (list_reviews on db.statement()), serialisation (history_page_json),
  usage row (what the request pays; the batch write per row is shown apart), limiter (enforce),
  shell (an endpoint whose handler returns {}, without a limit), and the same shell answering the
  first page's JSON, already serialised (what the answer's size costs the WSGI path);
- a cached review (review_code, fake Gemini filled the cache) against the raw cache lookup plus the
  history INSERT it needs plus one limiter decision;
- the web app's save after each review (POST with the whole reviewed code): small, 2 MiB and 30 MiB
  bodies, each against an endpoint that only reads a body of that size (what carrying it costs).
The database is made for the run and dropped after it (--keep keeps it for another run).

    .venv/bin/python benchmarks/history.py --saves-only [--save-rounds 30]   # the saves alone, no rows loaded"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

WORDS = (
    "the function returns None when the input list is empty consider validating arguments early "
    "this loop allocates a new string per iteration prefer join avoid shadowing builtins such as "
    "list and id the query runs once per item batch it instead security user input reaches eval "
    "use ast literal_eval sanitize paths before opening files error handling swallows exceptions"
).split()
FEEDBACK_VARIANTS = 500
LIMIT = 50  # the GET's default page


def feedback_texts(size: int) -> list[str]:
    rng = random.Random(7)
    texts = []
    for n in range(FEEDBACK_VARIANTS):
        words, length = [f"## Review {n}\n"], 0
        while length < size:
            word = rng.choice(WORDS)
            words.append(word)
            length += len(word) + 1
        texts.append(" ".join(words))
    return texts


def create_database(admin_url: str) -> str:
    name = f"crv_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.set_main_option("sqlalchemy.url", url.replace("postgresql://", "postgresql+psycopg://", 1))
    os.environ["DATABASE_URL"] = url
    command.upgrade(config, "head")


def load(url: str, rows: int, users: int, big_rows: int, feedback_size: int) -> str:
    """COPY the rows in; returns the big user's id."""
    from shared.ids import cuid

    texts = feedback_texts(feedback_size)
    rng = random.Random(11)
    big = "user_big"
    start = datetime(2025, 1, 1)
    per_user = max(1, (rows - big_rows) // users)
    owners = itertools.chain(
        itertools.repeat(big, big_rows), (f"user_{n:05d}" for n in range(users) for _ in range(per_user))
    )
    columns = '"id", "userId", "type", "language", "reviewModes", "timestamp", "codeSnippet", "feedback"'
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f'COPY "ReviewHistory" ({columns}) FROM STDIN') as copy:
            for n, owner in enumerate(itertools.islice(owners, rows)):
                moment = start + timedelta(seconds=n * 7 + rng.randrange(5), milliseconds=rng.randrange(1000))
                copy.write_row(
                    (
                        cuid(),
                        owner,
                        "code",
                        "python",
                        ["security", "bug_fixes"],
                        moment,
                        "def handler(request):\n    return eval(request.args['x'])\n" * 8,
                        texts[n % FEEDBACK_VARIANTS],
                    )
                )
        conn.execute('ANALYZE "ReviewHistory"')
    took = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('\"ReviewHistory\"'))").fetchone()[0]
    print(f"loaded {rows:,} rows ({users:,} users, {big} with {big_rows:,}) in {took:.0f} s: {size}")
    return big


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def interleaved(steps: dict[str, Callable[[], object]], rounds: int, warmup: int = 20) -> dict[str, list[float]]:
    """Each round runs every step once, in a shuffled order, so drift on a shared machine hits all alike."""
    timings: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for name in names:  # warm caches, pools, prepared plans
        for _ in range(warmup):
            steps[name]()
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            started = time.perf_counter()
            steps[name]()
            timings[name].append(time.perf_counter() - started)
    return timings


def cursor_at(url: str, user: str, offset: int) -> str:
    with psycopg.connect(url) as conn:
        moment, review_id = conn.execute(
            'SELECT timestamp, id FROM "ReviewHistory" WHERE "userId" = %s ORDER BY timestamp DESC, id DESC '
            "OFFSET %s LIMIT 1",
            (user, offset),
        ).fetchone()
    # the cursor format list_reviews hands out (shared/history/service.py)
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{review_id}".encode()).decode().rstrip("=")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--big-user", type=int, default=100_000, help="rows of the user whose pages are read")
    parser.add_argument("--feedback-bytes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database", help="reuse a database a --keep run loaded")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--saves-only", action="store_true", help="only the history POST of small and large reviews")
    parser.add_argument("--save-rounds", type=int, default=30)
    args = parser.parse_args()
    args.big_user = min(args.big_user, args.rows)

    for name in [n for n in os.environ if n.startswith(("GEMINI_", "REVIEW_", "DATABASE_", "UPSTASH_", "REDIS_"))]:
        del os.environ[name]
    prefix = f"crv:bench:{uuid.uuid4().hex[:8]}:"
    # A 1 s window with no practical limit: every request is allowed and a window holds about as many
    # requests (~100) as a user's near the history limit of 120 a minute, so the script does the work it
    # does in production (its time grows with the requests in the window).
    os.environ.update(
        LOG_LEVEL="WARNING", REDIS_URL=args.redis, RATE_LIMIT_PREFIX=prefix, RATE_LIMIT_WINDOW_SECONDS="1"
    )
    os.environ["RATE_LIMITS"] = '{"history": {"free": 1000000000}, "review_code": {"free": 1000000000}}'

    url = args.database or create_database(args.admin_url)
    try:
        if args.database:
            os.environ["DATABASE_URL"] = url
            big = "user_big"
        elif args.saves_only:
            migrate(url)
        else:
            migrate(url)
            big = load(url, args.rows, args.users, args.big_user, args.feedback_bytes)
        if not args.saves_only:
            run(url, big, args, prefix)
        saves(args.save_rounds)
    finally:
        if "shared.usage" in sys.modules:  # the rows the run queued, before the database goes
            sys.modules["shared.usage"].flush()
            sys.modules["shared.db"].get_engine().dispose()
        if args.keep or args.database:
            print(f"database kept: {url}")
        else:
            drop_database(args.admin_url, url)
        import redis

        admin = redis.Redis.from_url(args.redis)
        for key in admin.scan_iter(f"{prefix}*"):
            admin.delete(key)


def run(url: str, big: str, args: argparse.Namespace, prefix: str) -> None:

    import functions_framework

    from shared import db, usage
    from shared.config import get_settings
    from shared.history.schemas import history_page_json
    from shared.history.service import list_reviews
    from shared.http import Call, endpoint
    from shared.ids import cuid
    from shared.models import utcnow
    from shared.ratelimit import enforce, get_limiter
    from tests.fakes.gemini import FakeGemini, generation

    get_settings.cache_clear()
    history = functions_framework.create_app("history", str(ROOT / "functions/history/main.py")).test_client()
    as_big = {"X-Dev-User": big}
    deep = cursor_at(url, big, int(args.big_user * 0.9))
    select_page = 'SELECT * FROM "ReviewHistory" WHERE "userId" = %s ORDER BY timestamp DESC, id DESC LIMIT %s'
    select_deep = (
        'SELECT * FROM "ReviewHistory" WHERE "userId" = %s AND (timestamp, id) < (%s, %s) '
        "ORDER BY timestamp DESC, id DESC LIMIT %s"
    )
    deep_time, deep_id = base64.urlsafe_b64decode(deep + "=" * (-len(deep) % 4)).decode().split("|")
    raw = psycopg.connect(url, autocommit=True)

    def handler(query: dict) -> Callable[[], None]:
        first = history.get("/", query_string=query, headers=as_big)
        assert first.status_code == 200 and len(first.json["history"]) == LIMIT, first.status_code

        def call() -> None:  # the body is read (by the client), not parsed: that is the caller's cost
            assert history.get("/", query_string=query, headers=as_big).status_code == 200

        return call

    def raw_select(sql: str, params: tuple) -> Callable[[], None]:
        return lambda: raw.execute(sql, params).fetchall()

    def query_step() -> None:
        with db.statement() as session:
            list_reviews(session, big, LIMIT, None)

    with db.statement() as session:
        page, _ = list_reviews(session, big, LIMIT, None)

    def serialise_step() -> None:
        history_page_json(page, "x")

    @endpoint("bench_shell", methods=("GET",))
    def shell(call: Call):
        return {}

    answer = history.get("/", headers=as_big).get_data()

    @endpoint("bench_shell_answer", methods=("GET",))
    def shell_answer(call: Call):
        return flask.Response(answer, mimetype="application/json")

    import flask

    app = flask.Flask("bench_shell")  # through a Flask test client, as the handler is
    app.add_url_rule("/", "shell", lambda: shell(flask.request), methods=["GET"])
    app.add_url_rule("/answer", "answer", lambda: shell_answer(flask.request), methods=["GET"])
    shell_client = app.test_client()

    limiter = get_limiter()
    steps = {
        "handler, first page": handler({}),
        "handler, deep page": handler({"cursor": deep}),
        "SELECT, first page": raw_select(select_page, (big, LIMIT + 1)),
        "SELECT, deep page": raw_select(select_deep, (big, deep_time, deep_id, LIMIT + 1)),
        "limiter decision": lambda: limiter.decide(f"{prefix}decision", 10**9, 1000),
        "step: query": query_step,
        "step: serialisation": serialise_step,
        "step: usage row": lambda: usage.record_call(big, "/history", 1, 200, None),
        "step: limiter (enforce)": lambda: enforce("history", big),
        "step: shell": lambda: shell_client.get("/", headers=as_big),
        f"step: shell with the answer ({len(answer) // 1024} KB)": lambda: shell_client.get("/answer", headers=as_big),
    }
    timings = interleaved(steps, args.rounds)
    usage.flush()
    batch = usage.UsageBuffer(flush_rows=10**9, flush_seconds=3600)
    for _ in range(usage.FLUSH_ROWS):
        batch.add({"id": cuid(), "userId": big, "endpoint": "/bench", "timestamp": utcnow(), "duration": 1,
                   "statusCode": 200, "tokensUsed": None})  # fmt: skip
    started = time.perf_counter()
    written = batch.flush()
    flush_ms = (time.perf_counter() - started) * 1000

    figures = {name: p50(values) for name, values in timings.items()}
    print(f"\nhistory GET, {LIMIT} items of ~{args.feedback_bytes} B, {args.rounds} interleaved rounds (p50, ms)")
    for page in ("first page", "deep page"):
        handler_ms, select_ms, limit_ms = (
            figures[f"handler, {page}"],
            figures[f"SELECT, {page}"],
            figures["limiter decision"],
        )
        print(
            f"  {page:10}: handler {handler_ms:.2f}, SELECT {select_ms:.2f} + limiter {limit_ms:.2f} = "
            f"{select_ms + limit_ms:.2f}; ratio {handler_ms / (select_ms + limit_ms):.2f} "
            f"(handler / SELECT alone {handler_ms / select_ms:.2f})"
        )
    print("  steps:", ", ".join(f"{name[6:]} {figures[name]:.3f}" for name in steps if name.startswith("step:")))
    print(
        f"  usage rows written in the background: {written} in {flush_ms:.1f} ms ({flush_ms / max(written, 1):.3f} ms a row)"
    )
    raw.close()

    cached_review(args, prefix, raw_url=url, FakeGemini=FakeGemini, generation=generation)


def cached_review(args: argparse.Namespace, prefix: str, *, raw_url: str, FakeGemini, generation) -> None:
    import functions_framework

    from shared.config import get_settings
    from shared.ids import cuid
    from shared.ratelimit import get_limiter

    code = f"# {prefix}\n" + "def handler(request):\n    return eval(request.args['x'])\n" * 20
    body = {"code": code, "language": "python", "reviewModes": ["security"]}
    feedback = feedback_texts(args.feedback_bytes)[0]
    with FakeGemini() as gemini:
        gemini.then(generation({"feedback": feedback, "findings": []}))
        os.environ.update(GEMINI_API_KEY="bench", GEMINI_BASE_URL=gemini.url)
        get_settings.cache_clear()
        client = functions_framework.create_app(
            "review_code", str(ROOT / "functions/review_code/main.py")
        ).test_client()
        first = client.post("/", json=body, headers={"X-Dev-User": "user_cached"})
        assert first.status_code == 200 and not first.json["cached"], first.status_code
        raw = psycopg.connect(raw_url, autocommit=True)
        key = raw.execute('SELECT key FROM "ReviewCache" ORDER BY "createdAt" DESC LIMIT 1').fetchone()[0]
        limiter = get_limiter()

        again = client.post("/", json=body, headers={"X-Dev-User": "user_cached"})
        assert again.status_code == 200 and again.json["cached"], again.status_code

        def handler() -> None:
            assert client.post("/", json=body, headers={"X-Dev-User": "user_cached"}).status_code == 200

        def lookup() -> None:
            raw.execute('SELECT response FROM "ReviewCache" WHERE key = %s AND "expiresAt" > now()', (key,)).fetchone()

        def insert() -> None:
            raw.execute(
                'INSERT INTO "ReviewHistory" (id, "userId", type, language, "reviewModes", timestamp, "codeSnippet", '
                'feedback, "fileName") VALUES (%s, %s, %s, %s, %s, now(), %s, %s, %s)',
                (cuid(), "user_cached_raw", "code", "python", ["security"], code[:500], first.json["feedback"], None),
            )

        timings = interleaved(
            {
                "handler": handler,
                "lookup": lookup,
                "insert": insert,
                "limiter": lambda: limiter.decide(f"{prefix}cached", 10**9, 1000),
            },
            args.rounds,
        )
        raw.close()
    figures = {name: p50(values) for name, values in timings.items()}
    floor = figures["lookup"] + figures["insert"] + figures["limiter"]
    print(f"\ncached review (review_code, {len(first.json['feedback']):,} B of feedback), p50 ms")
    print(
        f"  handler {figures['handler']:.2f}; lookup {figures['lookup']:.2f} + history INSERT {figures['insert']:.2f} "
        f"+ limiter {figures['limiter']:.2f} = {floor:.2f}; ratio {figures['handler'] / floor:.2f}"
    )


def saves(rounds: int) -> None:
    """POST /api/history as the web app sends it after a review, the reviewed code whole, by size."""
    import json

    import flask
    import functions_framework

    from shared.config import get_settings
    from shared.http import PLATFORM_MAX_BODY_BYTES, Call, endpoint

    get_settings.cache_clear()
    history = functions_framework.create_app("history", str(ROOT / "functions/history/main.py")).test_client()

    @endpoint("bench_reader", methods=("POST",), max_body=PLATFORM_MAX_BODY_BYTES)
    def reader(call: Call):
        call.body()
        return {}

    app = flask.Flask("bench_reader")
    app.add_url_rule("/", "reader", lambda: reader(flask.request), methods=["POST"])
    shell = app.test_client()
    unit = "def handler(request):\n    return eval(request.args['x'])\n"
    sizes = {"small (2 KB)": 2 * 1024, "2 MiB": 2 * 1024 * 1024, "30 MiB": 30 * 1024 * 1024}
    codes = {name: (unit * (size // len(unit) + 1))[:size] for name, size in sizes.items()}
    counter = itertools.count()
    headers = {"X-Dev-User": "user_saves", "Content-Type": "application/json"}

    encoded = {code: json.dumps(code).encode() for code in codes.values()}  # once: what each round varies is small

    def body(code: str) -> bytes:
        head = json.dumps({"id": str(uuid.uuid4()), "timestamp": 1_764_000_000_000, "fileName": "app.py",
                           "language": "python", "feedback": f"## Review {next(counter)}\n\nLooks fine.",
                           "mode": ["security"], "reviewType": "file"})  # fmt: skip
        return b"".join((head[:-1].encode(), b', "code": ', encoded[code], b"}"))

    def save(code: str) -> Callable[[], None]:
        def call() -> None:
            response = history.post("/", data=body(code), headers=headers)
            assert response.status_code == 201, response.status_code

        return call

    def read(code: str) -> Callable[[], None]:
        return lambda: shell.post("/", data=body(code), headers=headers)

    steps = {f"save, {name}": save(code) for name, code in codes.items()}
    steps.update({f"read only, {name}": read(code) for name, code in codes.items()})
    timings = interleaved(steps, rounds, warmup=2)  # a step carrying 30 MiB is not worth 20
    figures = {name: p50(values) for name, values in timings.items()}
    small = figures["save, small (2 KB)"]
    print(f"\nhistory POST as the web app saves a review (the code whole), {rounds} interleaved rounds (p50, ms)")
    for name in sizes:
        save_ms, read_ms = figures[f"save, {name}"], figures[f"read only, {name}"]
        print(
            f"  {name:12}: save {save_ms:7.2f} ({save_ms / small:5.1f}x the small one); an endpoint only reading "
            f"the body {read_ms:7.2f}; save minus reading {save_ms - read_ms:6.2f}"
        )


if __name__ == "__main__":
    main()
