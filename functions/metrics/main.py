"""metrics: the front end's web-vitals beacons (sendBeacon: a JSON metric as text/plain). No sign-in;
limited per client address; each metric is one structured log line. 204, no body."""

import flask
import functions_framework

from shared.config import get_settings
from shared.errors import invalid_input
from shared.http import Call, endpoint
from shared.web_vitals import MAX_BEACON_BYTES, WebVital, record

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "metrics", methods=("POST",), authenticated=False, max_body=MAX_BEACON_BYTES, limit="metrics", limit_by="address"
)
def metrics(call: Call):
    if call.request.mimetype not in ("text/plain", "application/json", ""):
        raise invalid_input("Send the metric as JSON, with Content-Type text/plain or application/json.")
    record(call.json(WebVital), call.request.headers.get("Referer"))
    return flask.Response(status=204)
