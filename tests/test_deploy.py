"""deploy.sh against a fake gcloud that records its arguments; staged sources serve on their own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_GCLOUD = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if args[:2] == ["secrets", "create"] or args[:3] == ["secrets", "versions", "add"] else ""
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "stdin_len": len(stdin)}) + "\\n")
if args[:2] == ["secrets", "describe"] and args[2] in os.environ.get("GCLOUD_MISSING", "").split(","):
    sys.exit(1)
if args[:4] == ["secrets", "versions", "access", "latest"]:
    print(json.loads(os.environ.get("GCLOUD_SECRETS", "{}")).get(args[args.index("--secret") + 1], ""), end="")
"""

ENV = {
    "DATABASE_URL": "postgresql://app:pw@/coderevai?host=/cloudsql/proj:us-central1:db",
    "UPSTASH_REDIS_REST_URL": "https://eu1-x.upstash.io",
    "UPSTASH_REDIS_REST_TOKEN": "upstash-token",
    "CLERK_SECRET_KEY": "sk_test_clerk",
    "GEMINI_API_KEY": "gemini-key",
    "STRIPE_SECRET_KEY": "sk_test_stripe",
    "STRIPE_WEBHOOK_SECRET": "whsec_test",
    "STRIPE_PRICE_ID_PRO": "price_pro",
    "BILLING_SUCCESS_URL": "https://app.example.com/ok",
    "BILLING_CANCEL_URL": "https://app.example.com/cancel",
    "ALLOWED_ORIGINS": "https://app.example.com,https://www.example.com",
}
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/main.py"))


def deploy(
    tmp_path: Path,
    *args: str,
    env: dict | None = None,
    missing: str = "",
    stored: dict | None = None,
    gcloud: bool = True,
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # Only the tools deploy.sh uses: this machine may have a real gcloud in /usr/bin.
    tools = {
        tool: shutil.which(tool)
        for tool in ("bash", "sed", "tr", "cp", "find", "basename", "dirname", "mkdir", "rm", "cat")
    }
    tools["python3"] = sys.executable  # the fake gcloud's interpreter; `which python3` may be a pyenv shim
    for tool, target in tools.items():
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(target)
    if gcloud:
        (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
        (bin_dir / "gcloud").chmod(0o755)
    log = tmp_path / "gcloud.log"
    base = {
        k: v for k, v in os.environ.items() if k not in ENV and not k.startswith(("GOOGLE_CLOUD", "CLERK", "REDIS"))
    }
    full_env = {
        **base,
        **(ENV if env is None else env),
        "PATH": str(bin_dir),
        "DEPLOY_STAGE_DIR": str(tmp_path / "stage"),
        "GCLOUD_LOG": str(log),
        "GCLOUD_MISSING": missing,
        "GCLOUD_SECRETS": json.dumps(stored or {}),
    }
    result = subprocess.run(
        ["bash", str(ROOT / "deploy.sh"), *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, [c["args"] for c in calls], calls


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.fixture(scope="module")
def full_deploy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    return deploy(
        tmp,
        "--project",
        "proj",
        "--region",
        "us-central1",
        "--sql-instance",
        "proj:us-central1:db",
        missing="coderevai-gemini-api-key",
        # What Secret Manager holds now: every value as in the environment but a rotated Stripe key.
        stored={
            **{f"coderevai-{k.lower().replace('_', '-')}": v for k, v in ENV.items()},
            "coderevai-stripe-secret-key": "sk_test_the_old_key",
        },
    )


def test_migration_job_runs_before_any_function(full_deploy):
    result, calls, _ = full_deploy
    assert result.returncode == 0, result.stderr
    kinds = [" ".join(c[:3]) for c in calls if c[0] in ("run", "functions")]
    first_function = kinds.index("functions deploy " + FUNCTIONS[0].replace("_", "-"))
    assert kinds.index("run jobs deploy") < kinds.index("run jobs execute") < first_function
    job = next(c for c in calls if c[:3] == ["run", "jobs", "deploy"])
    assert flag(job, "--command") == "alembic" and flag(job, "--args") == "upgrade,head"
    assert flag(job, "--set-secrets") == "DATABASE_URL=coderevai-database-url:latest"
    assert flag(job, "--set-cloudsql-instances") == "proj:us-central1:db"
    execute = next(c for c in calls if c[:3] == ["run", "jobs", "execute"])
    assert "--wait" in execute
    assert (ROOT / flag(job, "--source") / "migrations" / "env.py").exists()


def test_every_function_is_deployed_from_its_staged_source(full_deploy):
    _, calls, _ = full_deploy
    deploys = {c[2]: c for c in calls if c[:2] == ["functions", "deploy"]}
    assert sorted(deploys) == sorted(fn.replace("_", "-") for fn in FUNCTIONS)
    for fn in FUNCTIONS:
        args = deploys[fn.replace("_", "-")]
        assert "--gen2" in args and "--trigger-http" in args
        assert flag(args, "--runtime") == "python312"
        assert flag(args, "--entry-point") == fn
        assert (flag(args, "--project"), flag(args, "--region")) == ("proj", "us-central1")
        source = ROOT / flag(args, "--source")
        assert (source / "main.py").read_text() == (ROOT / "functions" / fn / "main.py").read_text()
        assert (source / "shared" / "http.py").exists()
        assert (source / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()
        secrets = dict(item.split("=") for item in flag(args, "--set-secrets").split(","))
        assert secrets["DATABASE_URL"] == "coderevai-database-url:latest"
        env_file = (ROOT / flag(args, "--env-vars-file")).read_text()
        assert "APP_ENV: production" in env_file
        assert 'ALLOWED_ORIGINS: "https://app.example.com,https://www.example.com"' in env_file
        # Secret values never travel as plain environment variables.
        assert "upstash-token" not in env_file and "sk_test" not in env_file
    if "stripe-webhook" in deploys:
        secrets = flag(deploys["stripe-webhook"], "--set-secrets")
        assert "STRIPE_WEBHOOK_SECRET=coderevai-stripe-webhook-secret:latest" in secrets
        assert "GEMINI_API_KEY" not in secrets
        assert "UPSTASH_REDIS_REST_TOKEN=" in secrets  # without it production settings refuse to start
        assert "STRIPE_SECRET_KEY" not in secrets
    assert "STRIPE_SECRET_KEY" not in flag(deploys["history"], "--set-secrets")


def test_cloud_sql_is_attached_to_each_service(full_deploy):
    _, calls, _ = full_deploy
    updated = {c[3] for c in calls if c[:3] == ["run", "services", "update"]}
    assert updated == {fn.replace("_", "-") for fn in FUNCTIONS}


def test_missing_secret_is_created_from_the_environment(full_deploy):
    _, _, records = full_deploy
    created = [r for r in records if r["args"][:2] == ["secrets", "create"]]
    assert [r["args"][2] for r in created] == ["coderevai-gemini-api-key"]
    assert created[0]["stdin_len"] == len(ENV["GEMINI_API_KEY"])


def test_dry_run_prints_every_command_and_runs_none(tmp_path):
    result, calls, _ = deploy(tmp_path, "--project", "proj", "--region", "r1", "--dry-run", gcloud=False)
    assert result.returncode == 0, result.stderr
    assert calls == []
    out = result.stdout
    assert "gcloud run jobs deploy coderevai-migrate" in out
    for fn in FUNCTIONS:
        assert f"gcloud functions deploy {fn.replace('_', '-')} " in out
        assert f"--entry-point {fn}" in out
    assert "gemini-key" not in out and "sk_test" not in out


def test_only_named_functions(tmp_path):
    result, calls, _ = deploy(
        tmp_path, "--project", "p", "--region", "r", "--functions", "history", "--skip-migrations"
    )
    assert result.returncode == 0, result.stderr
    assert [c[2] for c in calls if c[:2] == ["functions", "deploy"]] == ["history"]
    assert not [c for c in calls if c[:2] == ["run", "jobs"]]
    bad, _, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--functions", "nope")
    assert bad.returncode != 0 and "no function 'nope'" in bad.stderr


@pytest.mark.parametrize(
    ("args", "env", "gcloud", "message"),
    [
        (["--region", "r"], ENV, True, "set --project"),
        (["--project", "p"], ENV, True, "set --region"),
        (["--project", "p", "--region", "r"], ENV, False, "gcloud is not on PATH"),
        (
            ["--project", "p", "--region", "r"],
            {k: v for k, v in ENV.items() if k != "DATABASE_URL"},
            True,
            "DATABASE_URL",
        ),
        (["--project", "p", "--region", "r"], {k: v for k, v in ENV.items() if k != "CLERK_SECRET_KEY"}, True, "CLERK"),
    ],
)
def test_fails_fast_with_a_clear_message(tmp_path, args, env, gcloud, message):
    result, calls, _ = deploy(tmp_path, *args, env=env, gcloud=gcloud)
    assert result.returncode != 0
    assert message in result.stderr
    assert calls == []


def test_each_staged_directory_imports_and_serves_its_function(full_deploy, tmp_path):
    """Only what is inside the staged directory: the repository is not on the path."""
    _, calls, _ = full_deploy
    for call in (c for c in calls if c[:2] == ["functions", "deploy"]):
        source, entry = ROOT / flag(call, "--source"), flag(call, "--entry-point")
        code = (
            f"import sys; sys.path[:] = [p for p in sys.path if p not in ('', {str(ROOT)!r})]; sys.path.insert(0, {str(source)!r})\n"
            "import functions_framework\n"
            f"client = functions_framework.create_app({entry!r}, 'main.py').test_client()\n"
            "response = client.put('/')\n"
            "assert response.status_code == 405, response.status_code\n"
            f"import shared; assert shared.__file__.startswith({str(source)!r}), shared.__file__\n"
            "print('ok')"
        )
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
        env.update(LOG_LEVEL="WARNING", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
        out = subprocess.run([sys.executable, "-P", "-c", code], cwd=source, env=env, capture_output=True, text=True)
        assert out.stdout.strip() == "ok", (entry, out.stderr[-2000:])


def test_a_rotated_secret_gets_a_new_version_and_unchanged_ones_do_not(full_deploy):
    _, _, records = full_deploy
    added = [r for r in records if r["args"][:3] == ["secrets", "versions", "add"]]
    assert [r["args"][3] for r in added] == ["coderevai-stripe-secret-key"]
    assert added[0]["stdin_len"] == len(ENV["STRIPE_SECRET_KEY"])


def test_functions_get_time_and_memory_for_what_they_wait_on(full_deploy):
    _, calls, _ = full_deploy
    deploys = {c[2]: c for c in calls if c[:2] == ["functions", "deploy"]}
    assert (flag(deploys["review-repo"], "--timeout"), flag(deploys["review-repo"], "--memory")) == ("900s", "1Gi")
    assert flag(deploys["review-code"], "--timeout") == "300s"  # 3 Gemini attempts of 60 s fit
    assert flag(deploys["history"], "--timeout") == "60s"


def test_the_webhook_secret_needs_the_clerk_secret_key(tmp_path):
    env = {k: v for k, v in ENV.items() if k != "CLERK_SECRET_KEY"} | {"CLERK_JWT_KEY": "-----BEGIN PUBLIC KEY-----"}
    result, calls, _ = deploy(tmp_path, "--project", "p", "--region", "r", env=env)
    assert result.returncode != 0
    assert "CLERK_SECRET_KEY is not set (the Stripe webhook copies plans to Clerk)" in result.stderr
    assert calls == []
