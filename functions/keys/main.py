"""keys: the caller's API keys for scripts and CI. GET lists them (never a key or its hash), POST
`{name}` creates one (`{key, keyId}`, the key shown this once), DELETE `?id=` revokes one.
Signed in by Clerk only: a key cannot manage keys."""

import functions_framework

from shared import db
from shared.config import get_settings
from shared.http import Call, endpoint
from shared.keys.schemas import KeyQuery, KeyView, NewKey
from shared.keys.service import create_key, list_keys, revoke_key

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("keys", methods=("GET", "POST", "DELETE"), max_body=4096, idempotent=True)
def keys(call: Call):
    method = call.request.method
    if method == "GET":
        with db.session() as session:
            return [KeyView.from_row(row).model_dump() for row in list_keys(session, call.user_id)]
    if method == "POST":
        name = call.json(NewKey).name
        with db.session() as session:
            key, key_id = create_key(session, call.user_id, name)
        return {"key": key, "keyId": key_id}, 201
    target = call.query(KeyQuery)
    with db.session() as session:
        revoke_key(session, call.user_id, target.id)
    return {"success": True}
