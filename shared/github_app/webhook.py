"""A GitHub delivery -> at most one queued task, answered at once.

The signature is checked on the raw body before anything parses it (signature.py). Each
`X-GitHub-Delivery` is recorded once, in the transaction that queues its task: a redelivery finds
the row and does nothing (2xx), and a queue that refuses the task rolls the row back and answers
503, so the redelivery GitHub or a person makes later does the work. `HANDLERS` maps each event we
act on to a small function; what takes GitHub calls (reading the pull request, checking who wrote a
command) is the worker's, so the webhook answers in milliseconds."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from shared import db
from shared.config import get_settings
from shared.errors import invalid_input
from shared.github_app import client, commands, installations, queue, signature
from shared.github_app.tasks import ReviewTask
from shared.models.github_delivery import GitHubDelivery

log = logging.getLogger("coderevai.github_app.webhook")

REVIEWED_ACTIONS = frozenset({"opened", "reopened", "ready_for_review", "synchronize"})


class Delivery(BaseModel):
    """The parts of a delivery every handler reads (pydantic wants an object, and stops at 200
    levels of nesting, where json.loads takes anything)."""

    action: str | None = None
    installation: dict | None = None
    repository: dict | None = None
    sender: dict | None = None
    pull_request: dict | None = None
    issue: dict | None = None
    comment: dict | None = None


Handler = Callable[[Session, Delivery, str], str]


def _pull_request(session: Session, delivery: Delivery, delivery_id: str) -> str:
    pull = delivery.pull_request or {}
    if delivery.action not in REVIEWED_ACTIONS:
        return "ignored: not a change to review"
    if pull.get("state") != "open":
        return "ignored: closed"
    if pull.get("draft"):
        return "ignored: draft"
    if (pull.get("user") or {}).get("type") == "Bot":
        return "ignored: opened by a bot"
    return _queue(session, delivery, delivery_id, pull["number"], headSha=pull["head"]["sha"])


def _issue_comment(session: Session, delivery: Delivery, delivery_id: str) -> str:
    issue, comment = delivery.issue or {}, delivery.comment or {}
    if delivery.action != "created" or not issue.get("pull_request"):
        return "ignored: not a new comment on a pull request"
    if (comment.get("user") or {}).get("type") == "Bot":
        return "ignored: written by a bot"
    body = comment.get("body") or ""
    kind = commands.parse(body, client.app_slug() if commands.mentions_someone(body) else None)
    if kind is None:
        return "ignored: no command"
    login = (comment.get("user") or {}).get("login")
    return _queue(
        session, delivery, delivery_id, issue["number"], kind=kind, commentId=comment["id"], requestedBy=login
    )


def _installation(session: Session, delivery: Delivery, _delivery_id: str) -> str:
    if not delivery.installation:
        return "ignored: no installation"
    return installations.change(session, delivery.installation, delivery.action or "")


HANDLERS: dict[str, Handler] = {
    "pull_request": _pull_request,
    "issue_comment": _issue_comment,
    "installation": _installation,
}


def receive(body: bytes, headers) -> dict:
    signature.verify(body, headers.get("X-Hub-Signature-256"), get_settings().github_webhook_secret)
    event, delivery_id = headers.get("X-GitHub-Event"), headers.get("X-GitHub-Delivery")
    if not event or not delivery_id or len(delivery_id) > 100:
        raise invalid_input("A delivery carries X-GitHub-Event and X-GitHub-Delivery headers.")
    if event == "ping":
        return {"received": True, "outcome": "pong"}
    handler = HANDLERS.get(event)
    if handler is None:
        return {"received": True, "outcome": "ignored: event not subscribed"}
    try:
        delivery = Delivery.model_validate_json(body)
    except ValidationError:
        raise invalid_input(f"The body is not a GitHub {event} delivery.") from None
    with db.session() as session:
        if not _record(session, delivery_id, event, delivery):
            return {"received": True, "outcome": "duplicate"}
        try:
            outcome = handler(session, delivery, delivery_id)
        except (KeyError, TypeError, ValidationError) as exc:  # a documented field missing or odd
            raise invalid_input(
                f"The {event} delivery is not shaped as GitHub documents it ({type(exc).__name__})."
            ) from None
        session.get(GitHubDelivery, delivery_id).outcome = outcome
    log.info("delivery %s (%s %s): %s", delivery_id, event, delivery.action, outcome)
    return {"received": True, "outcome": outcome}


def _record(session: Session, delivery_id: str, event: str, delivery: Delivery) -> bool:
    """Insert the delivery's row unless it is there: a concurrent twin waits for this transaction,
    then finds the row (or inserts it, when this one rolled back)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    row = {
        "id": delivery_id,
        "event": event,
        "action": delivery.action,
        "installationId": (delivery.installation or {}).get("id"),
        "outcome": "received",
    }
    table = GitHubDelivery.__table__
    statement = insert(table).values(**row).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    return session.execute(statement).first() is not None


def _queue(session: Session, delivery: Delivery, delivery_id: str, number: int, **what) -> str:
    """One task for pull request `number` of the delivery's repository, unless reviews stopped there."""
    row = installations.seen(session, delivery.installation)
    if row.deletedAt or row.suspendedAt:
        return "ignored: the installation is suspended or removed"
    repository = delivery.repository
    task = ReviewTask(
        installationId=_installation_id(delivery),
        repository=repository["full_name"],
        repositoryId=repository["id"],
        pullNumber=number,
        deliveryId=delivery_id,
        **what,
    )
    return queue.enqueue(task)


def _installation_id(delivery: Delivery) -> int:
    return delivery.installation["id"]
