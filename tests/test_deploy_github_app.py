"""deploy.sh --github-app against the fake gcloud of test_deploy.py: the queue, its service account
and grants, the private worker, the app's secrets, and the app manifest it prints."""

from __future__ import annotations

import json

import yaml

from tests.conftest import ROOT
from tests.test_deploy import ENV, deploy, flag

APP_ENV = ENV | {
    "GITHUB_APP_ID": "31337",
    "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----",
    "GITHUB_WEBHOOK_SECRET": "whsec-github-deploy",
    "GITHUB_APP_CLIENT_ID": "Iv1.abc",
    "GITHUB_APP_CLIENT_SECRET": "client-secret-value",
}
ARGS = ("--project", "proj", "--region", "us-central1", "--skip-migrations", "--github-app")


def test_the_app_is_deployed_with_its_queue_and_a_private_worker(tmp_path):
    result, calls, _ = deploy(
        tmp_path, *ARGS, env=APP_ENV, missing="coderevai-reviews,coderevai-tasks@proj.iam.gserviceaccount.com"
    )
    assert result.returncode == 0, result.stderr
    deploys = {c[2]: c for c in calls if c[:2] == ["functions", "deploy"]}
    assert {"github-webhook", "review-worker", "github-app"} <= set(deploys)
    assert "--no-allow-unauthenticated" in deploys["review-worker"]
    assert "--allow-unauthenticated" in deploys["github-webhook"]
    assert flag(deploys["review-worker"], "--timeout") == "900s"
    # The queue, with retries and a bounded rate, and the account its OIDC tokens are for.
    (queue,) = [c for c in calls if c[:3] == ["tasks", "queues", "create"]]
    assert queue[3] == "coderevai-reviews"
    assert flag(queue, "--max-concurrent-dispatches") == "4" and flag(queue, "--max-attempts") == "8"
    assert ["iam", "service-accounts", "create", "coderevai-tasks"] == [
        c for c in calls if c[:3] == ["iam", "service-accounts", "create"]
    ][0][:4]
    roles = {flag(c, "--role") for c in calls if "add-iam-policy-binding" in c}
    assert {"roles/cloudtasks.enqueuer", "roles/iam.serviceAccountUser"} <= roles
    (invoker,) = [c for c in calls if c[:2] == ["functions", "add-invoker-policy-binding"]]
    assert (
        invoker[2] == "review-worker"
        and flag(invoker, "--member") == "serviceAccount:coderevai-tasks@proj.iam.gserviceaccount.com"
    )
    # Secrets through Secret Manager only; the app's settings only in the app's functions.
    worker_secrets = flag(deploys["review-worker"], "--set-secrets")
    assert "GITHUB_APP_PRIVATE_KEY=coderevai-github-app-private-key:latest" in worker_secrets
    webhook_env = yaml.safe_load((ROOT / flag(deploys["github-webhook"], "--env-vars-file")).read_text())
    assert webhook_env["CLOUD_TASKS_QUEUE"] == "projects/proj/locations/us-central1/queues/coderevai-reviews"
    assert webhook_env["REVIEW_WORKER_URL"] == "https://us-central1-proj.cloudfunctions.net/review-worker"
    assert webhook_env["REVIEW_WORKER_SERVICE_ACCOUNT"] == "coderevai-tasks@proj.iam.gserviceaccount.com"
    assert "whsec-github-deploy" not in json.dumps(webhook_env) and "client-secret-value" not in json.dumps(webhook_env)
    history_env = yaml.safe_load((ROOT / flag(deploys["history"], "--env-vars-file")).read_text())
    assert "GITHUB_APP_ID" not in history_env  # production settings would want the app's key there too
    # The queue exists before the functions that use it.
    order = [" ".join(c[:3]) for c in calls]
    assert order.index("tasks queues create") < order.index("functions deploy github-webhook")


def test_the_dry_run_prints_the_app_manifest(tmp_path):
    result, calls, _ = deploy(tmp_path, *ARGS, "--dry-run", env=APP_ENV, gcloud=False)
    assert result.returncode == 0, result.stderr
    assert calls == []
    out = result.stdout
    start = out.index("GitHub App manifest")
    manifest = json.loads(out[out.index("{", start) : out.index("\n  }\n", start) + 4])
    assert manifest["default_permissions"] == {
        "pull_requests": "write",
        "checks": "write",
        "contents": "read",
        "metadata": "read",
    }
    assert manifest["default_events"] == ["pull_request", "issue_comment"]
    assert manifest["hook_attributes"]["url"] == "https://us-central1-proj.cloudfunctions.net/github-webhook"
    assert manifest["request_oauth_on_install"] is True
    assert manifest["callback_urls"] == ["https://us-central1-proj.cloudfunctions.net/github-app/setup"]
    assert "gcloud tasks queues create coderevai-reviews" in out
    assert "client-secret-value" not in out and "whsec-github-deploy" not in out


def test_without_the_flag_the_app_is_not_deployed(tmp_path):
    result, calls, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--skip-migrations", env=APP_ENV)
    assert result.returncode == 0, result.stderr
    deployed = {c[2] for c in calls if c[:2] == ["functions", "deploy"]}
    assert not deployed & {"github-webhook", "review-worker", "github-app"}
    assert not [c for c in calls if c[0] == "tasks"]
    named, _, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--functions", "review_worker", env=APP_ENV)
    assert named.returncode != 0 and "deploy it with --github-app" in named.stderr


def test_the_app_needs_its_id_key_and_secret(tmp_path):
    env = {k: v for k, v in APP_ENV.items() if k != "GITHUB_WEBHOOK_SECRET"}
    result, calls, _ = deploy(tmp_path, *ARGS, env=env)
    assert result.returncode != 0 and "--github-app needs GITHUB_WEBHOOK_SECRET" in result.stderr
    assert calls == []


def test_the_first_dry_run_prints_the_manifest_before_the_app_exists(tmp_path):
    """The documented first step: the app is created from the manifest the dry run prints, so the
    dry run cannot ask for the app's id, key and secret; it names them and shows placeholders."""
    app = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_CLIENT_ID")
    env = {k: v for k, v in APP_ENV.items() if k not in app}
    result, calls, _ = deploy(tmp_path, *ARGS, "--dry-run", env=env, gcloud=False)
    assert result.returncode == 0, result.stderr
    assert calls == []
    assert "GitHub App manifest" in result.stdout
    assert "GITHUB_APP_ID is not set" in result.stderr and "a real deploy needs it" in result.stderr
    assert 'GITHUB_APP_ID: "<GITHUB_APP_ID>"' in result.stdout


def test_the_app_alone_deploys_the_retention_job_with_its_settings(tmp_path):
    """Deliveries and review runs are purged daily wherever the webhook writes them, Stripe or not."""
    env = APP_ENV | {"GITHUB_DELIVERY_RETENTION_DAYS": "10", "GITHUB_REVIEW_RUN_RETENTION_DAYS": "21"}
    only = ("--functions", "github_webhook,review_worker,github_app")
    result, calls, _ = deploy(tmp_path, *ARGS, *only, env=env)
    assert result.returncode == 0, result.stderr
    job = next(c for c in calls if c[:4] == ["run", "jobs", "deploy", "coderevai-purge"])
    assert "--args=-m,shared.retention" in job
    job_env = yaml.safe_load((ROOT / flag(job, "--env-vars-file")).read_text())
    assert job_env["GITHUB_DELIVERY_RETENTION_DAYS"] == "10" and job_env["GITHUB_REVIEW_RUN_RETENTION_DAYS"] == "21"
    assert "GITHUB_APP_ID" not in job_env  # production settings would want the app's key there too
    assert [c[2] for c in calls if c[:2] == ["scheduler", "jobs"] and c[2] != "describe"] == ["update"]
