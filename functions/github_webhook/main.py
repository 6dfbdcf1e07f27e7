"""github_webhook: the GitHub App's deliveries, verified against GITHUB_WEBHOOK_SECRET before the
body is read as JSON, recorded once by X-GitHub-Delivery, and handed to the review queue; the
answer comes at once (GitHub waits 10 s at most and does not retry a failed delivery by itself)."""

import functions_framework

from shared.config import get_settings
from shared.github_app.webhook import receive
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it

MAX_DELIVERY_BYTES = 25 * 1024 * 1024  # GitHub caps a delivery's payload at 25 MB


@functions_framework.http
@endpoint("github_webhook", methods=("POST",), authenticated=False, max_body=MAX_DELIVERY_BYTES)
def github_webhook(call: Call):
    return receive(call.body(), call.request.headers)
