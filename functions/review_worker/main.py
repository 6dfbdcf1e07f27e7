"""review_worker: one queued pull-request review (or PR command), dispatched by Cloud Tasks with an
OIDC token it verifies first. 2xx tells the queue the task is finished (done, or dropped for a
reason it logs); a retryable error answers 503 and the queue tries again with backoff."""

import functions_framework

from shared.config import get_settings
from shared.github_app.tasks import ReviewTask
from shared.github_app.worker import run
from shared.github_app.worker_auth import verify_dispatch
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("review_worker", methods=("POST",), authenticated=False)
def review_worker(call: Call):
    verify_dispatch(call.request.headers.get("Authorization"))
    task = call.json(ReviewTask)
    return {"task": task.name, "outcome": run(task)}
