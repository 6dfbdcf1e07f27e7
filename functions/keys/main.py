"""keys: the caller's API keys for scripts and CI. GET lists them (never a key or its hash), POST
`{name, expiresAt? | expiresInDays?}` creates one (`{key, keyId, expiresAt}`, the key shown this
once; rate-limited per user), DELETE `?id=` revokes one. Signed in by Clerk only: a key cannot
manage keys."""

import functions_framework

from shared import db
from shared.config import get_settings
from shared.http import Call, endpoint
from shared.keys.schemas import KeyQuery, KeyView, NewKey
from shared.keys.service import create_key, list_keys, revoke_key
from shared.schemas import iso

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "keys", methods=("GET", "POST", "DELETE"), max_body=4096, idempotent=True, limit="keys", limit_methods=("POST",)
)
def keys(call: Call):
    method = call.request.method
    if method == "GET":
        with db.session() as session:
            return [KeyView.from_row(row).model_dump() for row in list_keys(session, call.user_id)]
    if method == "POST":
        new = call.json(NewKey)
        expires_at = new.expiry()
        with db.session() as session:
            key, key_id = create_key(session, call.user_id, new.name, expires_at)
        return {"key": key, "keyId": key_id, "expiresAt": iso(expires_at) if expires_at else None}, 201
    target = call.query(KeyQuery)
    with db.session() as session:
        revoke_key(session, call.user_id, target.id)
    return {"success": True}
