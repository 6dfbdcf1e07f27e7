"""`Idempotency-Key`: a POST retried with the same key and body gets the first answer back, without
running again (no second row, no second model call).

One transaction per keyed request. The key's row is inserted at the start and the answer stored
at the end, in the same transaction as everything the handler writes (every `db.session()` of the
request's thread joins it; the review cache keeps its own, `own=True`). So an answer lost on the way (the connection dropped after COMMIT, the client saw 503)
is either fully there for the retry to replay, or not at all and the retry runs afresh; it is never
"the row exists but the key does not know". A concurrent duplicate's INSERT waits on the first
one's uncommitted row (PostgreSQL's unique index does the waiting: no polling, no lease), then
replays its answer, or runs itself if the first failed and rolled back.

Kept: answers below 500 that are not retryable (a 400 stays a 400). Not kept: 5xx and retryable
errors, so the retry runs. Keys are per user (a key of one user never answers another) and stored
as SHA-256 hashes; rows expire after `TTL`. A kept answer is sealed (AES-GCM) under a key derived
from the Idempotency-Key itself, which only the client holds: the table never holds a readable
answer, and POST /keys answers a new API key in clear once. Written by hand: no maintained library covers
Flask + SQLAlchemy with the "same transaction as the write" rule above."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from datetime import timedelta

import flask
import sqlalchemy as sa
from sqlmodel import Session, select

from shared import db
from shared.errors import ApiError, invalid_input
from shared.models import utcnow
from shared.models.idempotency_key import IdempotencyKey

log = logging.getLogger("coderevai.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
PURGE_BATCH = 500
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as Stripe's keys (a UUID fits)
_RUNNING = 0  # the status of a row whose request is still running (visible to its transaction only)


def run_once(request: flask.Request, user_id: str, body: bytes, run: Callable[[], flask.Response]) -> flask.Response:
    """`run()`'s answer, or the answer kept for this user's key when the same request came before."""
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not _KEY.fullmatch(key):
        raise invalid_input(f"{HEADER} must be 1 to 255 printable ASCII characters (a UUID is a good key).")
    where = {"userId": user_id, "keyHash": _sha256(key.encode())}
    seal = _Seal(key)
    fingerprint = _sha256(request.method.encode(), request.path.encode(), request.query_string, body)
    _purge_expired()
    handler_error: ApiError | None = None
    try:
        with db.one_transaction() as session:
            kept = _claim(session, where, fingerprint)
            if kept is not None:
                return _replay(kept, seal)
            try:
                response = run()
            except ApiError as exc:
                handler_error = exc
                raise
            if response.status_code >= 500:
                session.rollback()  # neither the writes nor the key: the retry runs afresh
                return response
            _keep(session, where, fingerprint, response.status_code, seal.close(response.get_data(as_text=True)))
            return response
    except ApiError as exc:
        if exc is handler_error and exc.status < 500 and not exc.retryable:
            # The handler's writes rolled back with the error; the answer itself is kept.
            with db.session() as session:
                _keep_refusal(session, where, fingerprint, exc.status, seal.close(json.dumps(exc.body())))
        raise


def _claim(session: Session, where: dict, fingerprint: str) -> IdempotencyKey | None:
    """The kept answer to replay, or None once this transaction holds the key's row."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        placeholder = {**where, "requestHash": fingerprint, "status": _RUNNING, "response": "", "expiresAt": now}
        # Waits while another transaction holds an uncommitted row for the same key.
        session.execute(
            db.upsert_into(session, IdempotencyKey.__table__).values(**placeholder).on_conflict_do_nothing()
        )
        row = session.exec(_select(where).with_for_update()).one()
    else:
        # The local SQLite file has one writer: a placeholder would hold its write lock for the whole
        # request. Duplicates there are serialised by SQLite at the write instead.
        row = session.exec(_select(where)).first()
    if row is None or row.status == _RUNNING or row.expiresAt <= now:  # ours, or an expired answer taken over
        return None
    if row.requestHash != fingerprint:
        raise ApiError(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            f"This {HEADER} was used for a different request in the last {TTL.total_seconds() / 3600:.0f} hours; "
            "use a new key for a new request.",
        )
    return row


def _keep(session: Session, where: dict, fingerprint: str, status: int, response: str) -> None:
    answer = {"requestHash": fingerprint, "status": status, "response": response, "createdAt": utcnow()}
    answer["expiresAt"] = answer["createdAt"] + TTL
    table = IdempotencyKey.__table__
    upsert = db.upsert_into(session, table).values(**where, **answer)
    session.execute(upsert.on_conflict_do_update(index_elements=[table.c.userId, table.c.keyHash], set_=answer))


def _keep_refusal(session: Session, where: dict, fingerprint: str, status: int, sealed: str) -> None:
    row = {**where, "requestHash": fingerprint, "status": status, "response": sealed, "expiresAt": utcnow() + TTL}
    session.execute(db.upsert_into(session, IdempotencyKey.__table__).values(**row).on_conflict_do_nothing())


def _replay(row: IdempotencyKey, seal: _Seal) -> flask.Response:
    log.info("answer replayed for a repeated %s", HEADER)
    response = flask.Response(seal.open(row.response), status=row.status, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _purge_expired() -> None:
    """Expired rows go in small batches, skipping rows a running request holds (PostgreSQL)."""
    with db.session() as session:
        table = IdempotencyKey.__table__
        expired = sa.select(table.c.userId, table.c.keyHash).where(table.c.expiresAt <= utcnow()).limit(PURGE_BATCH)
        if session.get_bind().dialect.name == "postgresql":
            expired = expired.with_for_update(skip_locked=True)
        session.execute(sa.delete(table).where(sa.tuple_(table.c.userId, table.c.keyHash).in_(expired)))


class _Seal:
    """AES-GCM under a key derived (HKDF) from the Idempotency-Key; a random nonce per answer."""

    def __init__(self, idempotency_key: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.hashes import SHA256
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derive = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"coderevai idempotent answer")
        self._aead = AESGCM(derive.derive(idempotency_key.encode()))

    def close(self, text: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode(), None)).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()


def _select(where: dict):
    return select(IdempotencyKey).filter_by(**where)


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
