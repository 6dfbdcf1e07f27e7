"""health: public, for uptime checks. `{status: healthy|degraded|unhealthy, timestamp, checks:
{database, redis}}`, 503 when unhealthy; answers within about a second whatever hangs."""

import functions_framework

from shared.config import get_settings
from shared.health import UNHEALTHY, check, warm
from shared.http import Call, endpoint, json_response

get_settings()  # a missing required variable stops the instance at start, naming it
warm()


@functions_framework.http
@endpoint("health", methods=("GET",), authenticated=False)
def health(call: Call):
    report = check()
    response = json_response(report, 503 if report["status"] == UNHEALTHY else 200)
    response.headers["Cache-Control"] = "no-store"
    return response
