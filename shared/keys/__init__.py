"""API keys for scripts and CI (the front end's key manager): `service` creates, lists and revokes
them, `signin` turns `Authorization: Bearer sk_live_...` into the key's user, `schemas` holds the
wire bodies. A key is shown once, at creation; only its SHA-256 is stored, and none is ever logged."""
