"""Handing a task to the worker: Cloud Tasks in production (an HTTP task on the private worker,
with an OIDC token for the queue's service account, retried with backoff by the queue), or, on the
embedded default (no CLOUD_TASKS_QUEUE), a background thread of this process running the same
worker code, so `./scripts/serve` reviews pull requests too. Both refuse a task whose name they
took in the last hour, as Cloud Tasks does."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shared.config import get_settings, note_default
from shared.errors import ApiError
from shared.github_app.tasks import ReviewTask

log = logging.getLogger("coderevai.github_app.queue")

DISPATCH_DEADLINE_SECONDS = 1800  # Cloud Tasks' most for an HTTP target; the worker's own timeout is below it
NAME_KEPT_SECONDS = 3600  # Cloud Tasks refuses a task name for about an hour after its task ran
EMBEDDED_ATTEMPTS = 3
EMBEDDED_BACKOFF_SECONDS = 2.0

_client = None
_client_for: tuple | None = None
_lock = threading.Lock()


def enqueue(task: ReviewTask) -> str:
    """ "queued", or "duplicate" when the queue already took a task of this name."""
    if get_settings().cloud_tasks_queue:
        return _cloud_tasks(task)
    note_default("no CLOUD_TASKS_QUEUE: pull-request reviews run in this process, in the background")
    return embedded.submit(task)


# --- Cloud Tasks ------------------------------------------------------------------------------


def _tasks_client():
    """The real google-cloud-tasks client over REST (no gRPC channel to set up at cold start);
    CLOUD_TASKS_API_URL points it elsewhere (an emulator or the tests' fake, without credentials
    when it is plain http://)."""
    global _client, _client_for
    settings = get_settings()
    key = (settings.cloud_tasks_api_url,)
    with _lock:
        if _client is None or _client_for != key:
            from google.api_core.client_options import ClientOptions
            from google.cloud import tasks_v2

            options, credentials = None, None
            if settings.cloud_tasks_api_url:
                options = ClientOptions(api_endpoint=settings.cloud_tasks_api_url)
                if settings.cloud_tasks_api_url.startswith("http://"):
                    from google.auth.credentials import AnonymousCredentials

                    credentials = AnonymousCredentials()
            _client = tasks_v2.CloudTasksClient(transport="rest", client_options=options, credentials=credentials)
            _client_for = key
        return _client


def _cloud_tasks(task: ReviewTask) -> str:
    from google.api_core import exceptions
    from google.cloud import tasks_v2
    from google.protobuf import duration_pb2

    settings = get_settings()
    queue, url = settings.cloud_tasks_queue, settings.review_worker_url
    if not url:
        raise ApiError(503, "QUEUE_NOT_CONFIGURED", "REVIEW_WORKER_URL must be set with CLOUD_TASKS_QUEUE.")
    oidc = tasks_v2.OidcToken(service_account_email=settings.review_worker_service_account or "", audience=url)
    request = tasks_v2.HttpRequest(
        http_method=tasks_v2.HttpMethod.POST,
        url=url,
        headers={"Content-Type": "application/json"},
        body=task.model_dump_json().encode(),
        oidc_token=oidc,
    )
    created = tasks_v2.Task(
        name=f"{queue}/tasks/{task.name}",
        http_request=request,
        dispatch_deadline=duration_pb2.Duration(seconds=DISPATCH_DEADLINE_SECONDS),
    )
    try:
        _tasks_client().create_task(parent=queue, task=created, timeout=10)
    except exceptions.Conflict:  # ALREADY_EXISTS (over REST, 409 is raised as its parent class Conflict)
        return "duplicate"
    except exceptions.GoogleAPICallError as exc:
        log.warning("cloud tasks refused task %s: %s", task.name, type(exc).__name__)
        raise ApiError(
            503, "QUEUE_UNAVAILABLE", "The review queue is unavailable; try again shortly.", retryable=True
        ) from None
    except Exception as exc:  # transport errors (requests) and auth errors are not GoogleAPICallError
        log.warning("cloud tasks unreachable for task %s: %s", task.name, type(exc).__name__)
        raise ApiError(
            503, "QUEUE_UNAVAILABLE", "The review queue is unreachable; try again shortly.", retryable=True
        ) from None
    return "queued"


# --- the embedded default -------------------------------------------------------------------------


class EmbeddedQueue:
    """Two background threads running the worker's own code, with the queue's retries on a
    retryable failure. Not durable (a restart loses what was waiting): production has the queue."""

    def __init__(self, workers: int = 2) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._workers = workers
        self._names: dict[str, float] = {}
        self._lock = threading.Lock()
        self.pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, task: ReviewTask) -> str:
        now = time.monotonic()
        with self._lock:
            for name in [n for n, at in self._names.items() if at < now - NAME_KEPT_SECONDS]:
                del self._names[name]
            if task.name in self._names:
                return "duplicate"
            self._names[task.name] = now
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="review-worker")
            self.pending += 1
        self._pool.submit(self._run, task)
        return "queued"

    def _run(self, task: ReviewTask) -> None:
        from shared.github_app import worker

        try:
            for attempt in range(1, EMBEDDED_ATTEMPTS + 1):
                try:
                    outcome = worker.run(task)
                    log.info("task %s: %s", task.name, outcome)
                    return
                except ApiError as exc:
                    if not exc.retryable or attempt == EMBEDDED_ATTEMPTS:
                        log.warning("task %s failed: %s (%s)", task.name, exc.code, exc.message)
                        return
                except Exception:
                    log.exception("task %s failed", task.name)
                    return
                time.sleep(EMBEDDED_BACKOFF_SECONDS * 2 ** (attempt - 1))
        finally:
            with self._lock:
                self.pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until nothing is waiting or running (tests, and a clean stop of the local server)."""
        with self._lock:
            return self._idle.wait_for(lambda: self.pending == 0, timeout)


embedded = EmbeddedQueue()
