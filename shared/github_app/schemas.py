"""The GitHub App's wire bodies: the setup redirect's query, and a linked installation."""

from __future__ import annotations

from pydantic import Field

from shared.models.github_installation import GitHubInstallation
from shared.schemas import Body


class SetupQuery(Body):
    installation_id: int = Field(ge=1)
    setup_action: str | None = Field(default=None, max_length=40)
    code: str | None = Field(default=None, max_length=200)
    state: str = Field(min_length=1, max_length=2000)


def installation_body(row: GitHubInstallation) -> dict:
    return {
        "id": row.id,
        "account": row.accountLogin,
        "accountType": row.accountType,
        "linkedAt": row.linkedAt.isoformat() + "Z" if row.linkedAt else None,
        "active": row.deletedAt is None and row.suspendedAt is None,
    }
