"""Installations of the app: what GitHub told us of each (created, suspended, deleted), whose plan
its reviews count against (the user who linked it, linking.py), and whether it may be reviewed."""

from __future__ import annotations

from typing import NamedTuple

from sqlmodel import Session

from shared import db
from shared.models import utcnow
from shared.models.github_installation import GitHubInstallation
from shared.plans import FREE, plan_of_user


class Standing(NamedTuple):
    active: bool  # neither suspended nor deleted
    user_id: str | None  # the linked user, whose plan applies
    plan: str


def seen(session: Session, installation: dict) -> GitHubInstallation:
    """The row of an installation a delivery names, made when GitHub's `created` was missed."""
    row = session.get(GitHubInstallation, installation["id"])
    if row is None:
        row = GitHubInstallation(id=installation["id"])
        session.add(row)
    account = installation.get("account") or {}
    if account.get("login"):
        row.accountLogin, row.accountType = account["login"], account.get("type")
    return row


def change(session: Session, installation: dict, action: str) -> str:
    """Apply an `installation` event: created, deleted, suspend, unsuspend."""
    row = seen(session, installation)
    now = utcnow()
    if action == "created":
        row.deletedAt = row.suspendedAt = None
    elif action == "deleted":
        row.deletedAt = now
    elif action == "suspend":
        row.suspendedAt = now
    elif action == "unsuspend":
        row.suspendedAt = None
    else:
        return "ignored"
    row.updatedAt = now
    return f"installation {action}"


def standing(installation_id: int) -> Standing:
    """Unknown installations (the first delivery was missed) may be reviewed, on the free plan."""
    with db.statement() as connection:
        row = connection.execute(
            GitHubInstallation.__table__.select().where(GitHubInstallation.__table__.c.id == installation_id)
        ).first()
    if row is None:
        return Standing(True, None, FREE)
    active = row.deletedAt is None and row.suspendedAt is None
    return Standing(active, row.userId, plan_of_user(row.userId) if row.userId else FREE)
