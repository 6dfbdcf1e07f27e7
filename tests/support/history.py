"""Helpers for tests that call the history function as a signed-in user."""

from __future__ import annotations

import uuid


def as_user(user: str) -> dict[str, str]:
    return {"X-Dev-User": user}


def add(client, user: str, **fields):
    body = {"type": "code", "language": "python", "reviewModes": ["security"], "feedback": "fine", **fields}
    response = client.post("/", json=body, headers=as_user(user))
    assert response.status_code == 201, response.json
    return response.json["id"]


def unique_user(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"
