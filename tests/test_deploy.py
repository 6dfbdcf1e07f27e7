"""deploy.sh against a fake gcloud that records its arguments; staged sources serve on their own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.routes import ROUTES
from tests.conftest import ROOT

FAKE_GCLOUD = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
flag = lambda name: args[args.index(name) + 1]
stdin = sys.stdin.read() if args[:2] == ["secrets", "create"] or args[:3] == ["secrets", "versions", "add"] else ""
source = open(flag("--source")).read() if args[:3] == ["compute", "url-maps", "import"] else None
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "stdin_len": len(stdin), "source": source}) + "\\n")
if "describe" in args[:3] and args[args.index("describe") + 1] in os.environ.get("GCLOUD_MISSING", "").split(","):
    sys.exit(1)
if args[:2] == ["projects", "describe"]:
    print("123456789")
if args[:4] == ["secrets", "versions", "access", "latest"]:
    print(json.loads(os.environ.get("GCLOUD_SECRETS", "{}")).get(args[args.index("--secret") + 1], ""), end="")
if args[0] == "compute":  # load balancer resources live in a state file, as they would in the project
    path = os.environ["GCLOUD_STATE"]
    state = json.load(open(path)) if os.path.exists(path) else {}
    verb, key = args[2], args[1] + " " + args[3]
    if verb != "create" and verb != "import" and key not in state:
        sys.exit(1)
    if verb == "describe" and "--format" in args:
        print({"value(backends[].group)": ";".join(state[key].get("backends", [])),
               "value(address)": "203.0.113.7"}[flag("--format")])
    elif verb == "create":
        if key in state:
            sys.exit("ERROR: already exists: " + key)
        state[key] = {"args": args}
    elif verb == "import":
        state[key] = {"args": args, "source": source}
    elif verb == "add-backend":
        group = "https://www.googleapis.com/compute/v1/projects/%s/regions/%s/networkEndpointGroups/%s" % (
            flag("--project"), flag("--network-endpoint-group-region"), flag("--network-endpoint-group"))
        if group in state[key].setdefault("backends", []):
            sys.exit("ERROR: backend already exists")
        state[key]["backends"].append(group)
    json.dump(state, open(path, "w"))
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
# The GitHub App's functions are deployed with --github-app only (test_deploy_github_app.py).
APP_FUNCTIONS = {"github_webhook", "review_worker", "github_app"}
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/main.py") if p.parent.name not in APP_FUNCTIONS)


def deploy(
    tmp_path: Path,
    *args: str,
    env: dict | None = None,
    missing: str = "",
    stored: dict | None = None,
    gcloud: bool = True,
    state: Path | None = None,
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
        "GCLOUD_STATE": str(state or tmp_path / "gcloud-state.json"),
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


def test_the_limiters_script_ships_with_every_function(full_deploy):
    """shared/ratelimit/sliding_window.lua is package data, read when the limiter loads."""
    _, calls, _ = full_deploy
    script = (ROOT / "shared/ratelimit/sliding_window.lua").read_text()
    for deploy in (c for c in calls if c[:2] == ["functions", "deploy"]):
        assert (ROOT / flag(deploy, "--source") / "shared/ratelimit/sliding_window.lua").read_text() == script


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
        assert (source / "coderevai_core" / "findings.py").exists()  # the core, beside shared/
        rules = "shared/review/static/rules"  # data files, not modules: the static pass needs them
        assert sorted(p.name for p in (source / rules).glob("*.yml")) == sorted(
            p.name for p in (ROOT / rules).glob("*.yml")
        )
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
            f"import coderevai_core.findings as core; assert core.__file__.startswith({str(source)!r}), core.__file__\n"
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


# One origin: the functions behind the front end's domain (--domain).

DOMAIN = "app.example.com"
LB_ENV = ENV | {"ALLOWED_ORIGINS": f"https://{DOMAIN}", "CLERK_AUTHORIZED_PARTIES": f"https://{DOMAIN}"}
LB_ARGS = ("--project", "proj", "--region", "us-central1", "--domain", DOMAIN, "--frontend-service", "coderevai-web")
# The routes whose function is in this checkout: a route to a missing function stays with the front end.
ROUTED = [
    route
    for route in ROUTES
    if (ROOT / "functions" / route.function / "main.py").exists() and route.function not in APP_FUNCTIONS
]
ROUTED_FUNCTIONS = list(dict.fromkeys(route.function for route in ROUTED))


def dashed(function: str) -> str:
    return function.replace("_", "-")


def lb_calls(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c[0] == "compute"]


def imported_url_map(records: list[dict], name: str = "coderevai-url-map") -> dict:
    (record,) = [r for r in records if r["args"][:4] == ["compute", "url-maps", "import", name]]
    return yaml.safe_load(record["source"])


@pytest.fixture(scope="module")
def lb_deploy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lb")
    (tmp / "first").mkdir()
    return deploy(tmp / "first", *LB_ARGS, "--skip-migrations", env=LB_ENV, state=tmp / "state.json"), tmp


def test_behind_the_load_balancer_the_client_address_skips_its_hop(lb_deploy, full_deploy):
    (_, calls, _), _ = lb_deploy
    [history] = [c for c in calls if c[:3] == ["functions", "deploy", "history"]]
    assert 'TRUSTED_PROXY_HOPS: "2"' in (ROOT / flag(history, "--env-vars-file")).read_text()
    _, direct, _ = full_deploy
    [history] = [c for c in direct if c[:3] == ["functions", "deploy", "history"]]
    assert "TRUSTED_PROXY_HOPS" not in (ROOT / flag(history, "--env-vars-file")).read_text()


def test_the_load_balancer_is_built_in_order_after_the_functions(lb_deploy):
    (result, calls, _), _ = lb_deploy
    assert result.returncode == 0, result.stderr
    last_function = max(i for i, c in enumerate(calls) if c[:2] == ["functions", "deploy"])
    first_lb = min(i for i, c in enumerate(calls) if c[0] == "compute")
    assert last_function < first_lb
    changes = [c for c in lb_calls(calls) if c[2] != "describe"]
    expected = []
    for fn in ROUTED_FUNCTIONS:
        expected += [
            ["network-endpoint-groups", "create", f"coderevai-{dashed(fn)}-neg"],
            ["backend-services", "create", f"coderevai-{dashed(fn)}"],
            ["backend-services", "add-backend", f"coderevai-{dashed(fn)}"],
        ]
    expected += [
        ["network-endpoint-groups", "create", "coderevai-frontend-neg"],
        ["backend-services", "create", "coderevai-frontend"],
        ["backend-services", "add-backend", "coderevai-frontend"],
        ["url-maps", "import", "coderevai-url-map"],
        ["ssl-certificates", "create", "coderevai-app-example-com"],
        ["target-https-proxies", "create", "coderevai-https-proxy"],
        ["addresses", "create", "coderevai-ip"],
        ["forwarding-rules", "create", "coderevai-https"],
        ["url-maps", "import", "coderevai-http-redirect"],
        ["target-http-proxies", "create", "coderevai-http-proxy"],
        ["forwarding-rules", "create", "coderevai-http"],
    ]
    assert [c[1:4] for c in changes] == expected
    assert all(flag(c, "--project") == "proj" for c in changes)
    by_name = {(c[1], c[2], c[3]): c for c in changes}
    for fn in ROUTED_FUNCTIONS:
        neg = by_name["network-endpoint-groups", "create", f"coderevai-{dashed(fn)}-neg"]
        assert flag(neg, "--network-endpoint-type") == "serverless"
        assert flag(neg, "--cloud-run-service") == dashed(fn)  # the gen2 function's Cloud Run service
        assert flag(neg, "--region") == "us-central1"
        backend = by_name["backend-services", "create", f"coderevai-{dashed(fn)}"]
        assert "--global" in backend and flag(backend, "--load-balancing-scheme") == "EXTERNAL_MANAGED"
        added = by_name["backend-services", "add-backend", f"coderevai-{dashed(fn)}"]
        assert flag(added, "--network-endpoint-group") == f"coderevai-{dashed(fn)}-neg"
        assert flag(added, "--network-endpoint-group-region") == "us-central1"
    front = by_name["network-endpoint-groups", "create", "coderevai-frontend-neg"]
    assert flag(front, "--cloud-run-service") == "coderevai-web"
    cert = by_name["ssl-certificates", "create", "coderevai-app-example-com"]
    assert flag(cert, "--domains") == DOMAIN and "--global" in cert
    proxy = by_name["target-https-proxies", "create", "coderevai-https-proxy"]
    assert (flag(proxy, "--ssl-certificates"), flag(proxy, "--url-map")) == (
        "coderevai-app-example-com",
        "coderevai-url-map",
    )
    https = by_name["forwarding-rules", "create", "coderevai-https"]
    assert flag(https, "--ports") == "443" and flag(https, "--target-https-proxy") == "coderevai-https-proxy"
    assert flag(https, "--address") == "coderevai-ip"
    assert flag(https, "--load-balancing-scheme") == "EXTERNAL_MANAGED"
    http = by_name["forwarding-rules", "create", "coderevai-http"]
    assert flag(http, "--ports") == "80" and flag(http, "--address") == "coderevai-ip"
    assert f"point {DOMAIN}'s DNS A record at 203.0.113.7" in result.stdout


def test_the_url_map_covers_every_route_of_the_table(lb_deploy):
    (_, calls, records), tmp = lb_deploy
    url_map = imported_url_map(records)
    service = "https://www.googleapis.com/compute/v1/projects/proj/global/backendServices/"
    assert url_map["name"] == "coderevai-url-map"
    assert url_map["defaultService"] == service + "coderevai-frontend"
    assert url_map["hostRules"] == [{"hosts": [DOMAIN], "pathMatcher": "routes"}]
    (matcher,) = url_map["pathMatchers"]
    assert matcher["name"] == "routes" and matcher["defaultService"] == service + "coderevai-frontend"
    rules = {path: rule for rule in matcher["pathRules"] for path in rule["paths"]}
    assert sorted(rules) == sorted(route.path for route in ROUTED)
    assert len(matcher["pathRules"]) == len(ROUTED)
    for route in ROUTED:
        rule = rules[route.path]
        assert rule["service"] == service + f"coderevai-{dashed(route.function)}", route
        assert rule["routeAction"] == {"urlRewrite": {"pathPrefixRewrite": route.target}}, route
    assert rules["/api/create-checkout-session"]["routeAction"]["urlRewrite"]["pathPrefixRewrite"] == "/checkout"
    # Every backend the map names exists, with its function's serverless NEG behind it.
    state = json.loads((tmp / "state.json").read_text())
    for rule in matcher["pathRules"]:
        name = rule["service"].rsplit("/", 1)[1]
        (group,) = state[f"backend-services {name}"]["backends"]
        assert group.endswith(f"/regions/us-central1/networkEndpointGroups/{name}-neg")
        neg = state[f"network-endpoint-groups {name}-neg"]["args"]
        assert "coderevai-" + flag(neg, "--cloud-run-service") == name
    redirect = imported_url_map(records, "coderevai-http-redirect")
    assert redirect["defaultUrlRedirect"] == {
        "httpsRedirect": True,
        "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
    }


def test_running_again_creates_nothing_twice(lb_deploy):
    _, tmp = lb_deploy
    (tmp / "second").mkdir(exist_ok=True)
    result, calls, records = deploy(tmp / "second", *LB_ARGS, "--skip-migrations", env=LB_ENV, state=tmp / "state.json")
    assert result.returncode == 0, result.stderr
    assert not [c for c in lb_calls(calls) if c[2] in ("create", "add-backend")]
    # The URL map is imported again (a changed table takes effect) and the proxy pointed at it.
    assert imported_url_map(records)["hostRules"][0]["hosts"] == [DOMAIN]
    (update,) = [c for c in calls if c[1:3] == ["target-https-proxies", "update"]]
    assert flag(update, "--url-map") == "coderevai-url-map"
    assert "203.0.113.7" in result.stdout


def test_a_backend_left_without_its_neg_gets_it(tmp_path):
    """A run that stopped between creating a backend service and adding its NEG is finished by the next."""
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"backend-services coderevai-history": {"args": []}}))
    result, calls, records = deploy(
        tmp_path, *LB_ARGS, "--skip-migrations", "--functions", "history", env=LB_ENV, state=state
    )
    assert result.returncode == 0, result.stderr
    history = [c[1:4] for c in lb_calls(calls) if c[3] == "coderevai-history" and c[2] != "describe"]
    assert history == [["backend-services", "add-backend", "coderevai-history"]]
    # Deploying one function still routes them all: the others were deployed before.
    assert len(imported_url_map(records)["pathMatchers"][0]["pathRules"]) == len(ROUTED)


def test_dry_run_shows_the_load_balancer_and_runs_nothing(tmp_path):
    env = ENV | {"ALLOWED_ORIGINS": "https://www.example.com", "CLERK_AUTHORIZED_PARTIES": "https://other.example.com"}
    result, calls, _ = deploy(tmp_path, *LB_ARGS, "--dry-run", env=env, gcloud=False)
    assert result.returncode == 0, result.stderr
    assert calls == []
    out = result.stdout
    for fn in ROUTED_FUNCTIONS:
        assert (
            f"gcloud compute network-endpoint-groups create coderevai-{dashed(fn)}-neg --project proj "
            f"--region us-central1 --network-endpoint-type serverless --cloud-run-service {dashed(fn)}"
        ) in out
    assert "gcloud compute url-maps import coderevai-url-map --project proj --global --source " in out
    for route in ROUTED:  # the URL map itself is shown
        assert f'#             - "{route.path}"' in out
    assert (
        f"gcloud compute ssl-certificates create coderevai-app-example-com --project proj --global --domains {DOMAIN}"
        in out
    )
    assert "--target-https-proxy coderevai-https-proxy --ports 443" in out
    assert "gcloud compute addresses describe coderevai-ip" in out
    assert out.index("gcloud functions deploy") < out.index("gcloud compute network-endpoint-groups")
    # The functions' origin settings must name the domain, now the web app's and the functions' origin.
    assert "warning: ALLOWED_ORIGINS does not list https://app.example.com" in result.stderr
    assert "warning: CLERK_AUTHORIZED_PARTIES does not list https://app.example.com" in result.stderr


@pytest.mark.parametrize(
    ("args", "missing", "message"),
    [
        (("--domain", DOMAIN), "", "--domain needs --frontend-service"),
        (("--frontend-service", "web"), "", "--frontend-service and --frontend-region go with --domain"),
        (("--frontend-region", "europe-west1"), "", "go with --domain"),
        (("--domain", "https://app.example.com", "--frontend-service", "web"), "", "not a lowercase host name"),
        (("--domain", DOMAIN, "--frontend-service", "web"), "web", "no Cloud Run service 'web' in us-central1"),
    ],
)
def test_domain_option_fails_before_deploying_anything(tmp_path, args, missing, message):
    result, calls, _ = deploy(tmp_path, "--project", "p", "--region", "us-central1", *args, env=LB_ENV, missing=missing)
    assert result.returncode != 0
    assert message in result.stderr
    assert not [c for c in calls if c[0] != "run" or c[1] != "services"]


# scripts/routes.py: what the table means to Next.js and to the load balancer.


def run_routes_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "routes.py"), *args], capture_output=True, text=True)


def routes_script(*args: str) -> str:
    result = run_routes_script(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_next_rewrites_to_the_deployed_functions_cover_every_route():
    rewrites = json.loads(routes_script("next-rewrites", "--project", "proj", "--region", "europe-west1"))
    # beforeFiles: the web app's own app/api route handlers would otherwise answer first.
    assert list(rewrites) == ["beforeFiles"]
    destinations = {r["source"]: r["destination"] for r in rewrites["beforeFiles"]}
    assert sorted(destinations) == sorted(route.path for route in ROUTES)
    base = "https://europe-west1-proj.cloudfunctions.net/"
    for route in ROUTES:
        suffix = "" if route.target == "/" else route.target
        assert destinations[route.path] == base + dashed(route.function) + suffix
    assert destinations["/api/create-checkout-session"] == base + "billing/checkout"
    assert destinations["/api/customer-portal"] == base + "billing/portal"
    assert destinations["/api/subscription"] == base + "billing"
    assert destinations["/api/history/feedback"] == base + "history/feedback"


def test_next_rewrites_to_the_local_server_keep_the_api_paths():
    local = json.loads(routes_script("next-rewrites", "--local"))["beforeFiles"]
    assert local == [{"source": r.path, "destination": "http://127.0.0.1:8080" + r.path} for r in ROUTES]
    other = json.loads(routes_script("next-rewrites", "--local", "http://localhost:9000/"))["beforeFiles"]
    assert other[0]["destination"] == "http://localhost:9000" + ROUTES[0].path


def test_url_map_of_some_functions_leaves_the_rest_to_the_front_end():
    url_map = yaml.safe_load(routes_script("url-map", "--project", "p", "--domain", DOMAIN, "--functions", "billing"))
    rules = url_map["pathMatchers"][0]["pathRules"]
    assert [rule["paths"] for rule in rules] == [[r.path] for r in ROUTES if r.function == "billing"]
    assert url_map["pathMatchers"][0]["defaultService"].endswith("/backendServices/coderevai-frontend")
    every = yaml.safe_load(routes_script("url-map", "--project", "p", "--domain", DOMAIN))
    assert len(every["pathMatchers"][0]["pathRules"]) == len(ROUTES)
    bad = run_routes_script("url-map", "--project", "p", "--domain", DOMAIN, "--functions", "billing,nope")
    assert bad.returncode == 2 and "names no function nope" in bad.stderr


def test_functions_lists_the_table_once_each_in_order():
    assert routes_script("functions").split() == list(dict.fromkeys(r.function for r in ROUTES))


def deployed_scaling(calls: list[list[str]], stage_env=None) -> dict[str, tuple[int, int, int]]:
    """function -> (max-instances, concurrency, pool + overflow), from the gcloud calls and env files."""
    out = {}
    for call in (c for c in calls if c[:2] == ["functions", "deploy"]):
        env = yaml.safe_load(Path(flag(call, "--env-vars-file")).read_text())
        pool = int(env["DATABASE_POOL_SIZE"]) + int(env["DATABASE_MAX_OVERFLOW"])
        assert env["THREADS"] == flag(call, "--concurrency")  # a thread for each request it takes
        out[flag(call, "--entry-point")] = (int(flag(call, "--max-instances")), int(flag(call, "--concurrency")), pool)
    return out


def test_every_function_fits_the_default_connection_budget(full_deploy):
    result, calls, _ = full_deploy
    scaling = deployed_scaling(calls)
    assert set(scaling) == set(FUNCTIONS)
    used = sum(instances * pool for instances, _, pool in scaling.values())
    assert used <= 100 - 10  # Cloud SQL's 100 on 3.75 GB, less the headroom for migrations and admin
    assert used > 80  # the budget is spent, not left idle
    assert scaling["metrics"][2] == 0  # never touches the database: no pool at all
    assert all(pool > 0 for fn, (_, _, pool) in scaling.items() if fn != "metrics")
    assert scaling["history"][0] > scaling["keys"][0]  # the busiest database function gets the most
    assert f"total {used} of 90" in result.stdout


def test_dry_run_prints_the_arithmetic_for_the_given_limit(tmp_path):
    result, calls, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--dry-run", "--db-max-connections", "50")
    assert result.returncode == 0, result.stderr
    assert calls == []
    out = result.stdout
    assert "connection budget: 50 (--db-max-connections) - 10 kept for migrations and admin = 40" in out
    rows = {}
    for line in out.splitlines():
        parts = line.replace("(", "").replace(")", "").replace(",", "").split()
        if len(parts) > 10 and parts[1] == "max-instances" and parts[3] == "x":
            instances, pool, overflow, total = int(parts[2]), int(parts[5]), int(parts[8]), int(parts[10])
            assert instances * (pool + overflow) == total, line
            rows[parts[0]] = total
            assert f"--max-instances {instances} " in out.split(f"--entry-point {parts[0]}")[1].split("\n")[0]
    assert set(rows) == set(FUNCTIONS) - {"metrics"}
    assert "metrics" in out and "no database connections" in out
    assert sum(rows.values()) <= 40 and f"total {sum(rows.values())} of 40" in out


@pytest.mark.parametrize(
    ("limit", "message"), [("20", "too small"), ("0", "positive whole number"), ("lots", "positive")]
)
def test_a_budget_too_small_stops_before_any_gcloud_call(tmp_path, limit, message):
    result, calls, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--db-max-connections", limit)
    assert result.returncode != 0
    assert message in result.stderr
    if limit == "20":
        assert "use at least 32" in result.stderr
    assert calls == []


def test_the_stripe_event_purge_is_a_scheduled_job(full_deploy, tmp_path):
    result, calls, _ = full_deploy
    job = next(c for c in calls if c[:4] == ["run", "jobs", "deploy", "coderevai-purge"])
    assert flag(job, "--command") == "python" and "--args=-m,shared.retention" in job
    assert flag(job, "--set-cloudsql-instances") == "proj:us-central1:db"
    assert "DATABASE_URL=coderevai-database-url:latest" in flag(job, "--set-secrets")
    source = ROOT / flag(job, "--source")
    assert (source / "shared" / "retention.py").exists()
    assert "shared.retention" in (source / "Procfile").read_text()
    account = "123456789-compute@developer.gserviceaccount.com"
    binding = next(c for c in calls if c[:4] == ["run", "jobs", "add-iam-policy-binding", "coderevai-purge"])
    assert (flag(binding, "--member"), flag(binding, "--role")) == (f"serviceAccount:{account}", "roles/run.invoker")
    # The scheduler job exists already (the fake describes it): updated, not created twice.
    [schedule] = [c for c in calls if c[:2] == ["scheduler", "jobs"] and c[2] in ("create", "update")]
    assert schedule[2:5] == ["update", "http", "coderevai-purge"]
    assert flag(schedule, "--uri").endswith("/namespaces/proj/jobs/coderevai-purge:run")
    assert flag(schedule, "--oauth-service-account-email") == account
    assert flag(schedule, "--http-method") == "POST"

    first, calls, _ = deploy(tmp_path, "--project", "proj", "--region", "us-central1", missing="coderevai-purge")
    assert first.returncode == 0, first.stderr
    assert [c[2] for c in calls if c[:2] == ["scheduler", "jobs"] and c[2] != "describe"] == ["create"]


def test_without_the_webhook_no_purge_job(tmp_path):
    result, calls, _ = deploy(tmp_path, "--project", "proj", "--region", "us-central1", "--functions", "history")
    assert result.returncode == 0, result.stderr
    assert not [c for c in calls if "coderevai-purge" in c or c[0] == "scheduler"]


def test_vertex_ai_grants_the_runtime_account_and_sets_no_api_key(tmp_path):
    env = {**ENV, "GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_LOCATION": "europe-west4"}
    result, calls, _ = deploy(
        tmp_path, "--project", "proj", "--region", "us-central1", "--functions", "review_code", env=env
    )
    assert result.returncode == 0, result.stderr
    [grant] = [c for c in calls if c[:2] == ["projects", "add-iam-policy-binding"]]
    assert flag(grant, "--role") == "roles/aiplatform.user"
    assert flag(grant, "--member") == "serviceAccount:123456789-compute@developer.gserviceaccount.com"
    [function] = [c for c in calls if c[:2] == ["functions", "deploy"]]
    assert "GEMINI_API_KEY" not in flag(function, "--set-secrets")
    assert not [c for c in calls if c[0] == "secrets" and "coderevai-gemini-api-key" in c]
    env_file = (ROOT / flag(function, "--env-vars-file")).read_text()
    assert 'GOOGLE_GENAI_USE_VERTEXAI: "true"' in env_file
    assert 'GOOGLE_CLOUD_PROJECT: "proj"' in env_file and 'GOOGLE_CLOUD_LOCATION: "europe-west4"' in env_file


def test_without_vertex_ai_no_grant_and_the_key_secret(full_deploy):
    _, calls, _ = full_deploy
    assert not [c for c in calls if c[:2] == ["projects", "add-iam-policy-binding"]]
    deploys = {c[2]: c for c in calls if c[:2] == ["functions", "deploy"]}
    assert "GEMINI_API_KEY=coderevai-gemini-api-key:latest" in flag(deploys["review-code"], "--set-secrets")


# Settings set at deploy time reach the functions (the lists themselves: tests/test_settings_lists.py).


def deploy_list(name: str) -> list[str]:
    script = (ROOT / "deploy.sh").read_text()
    (value,) = re.findall(rf'^{name}="([^"]*)"', script, re.M)
    return value.split()


def test_every_setting_set_at_deploy_time_reaches_the_functions(tmp_path):
    plain = {name: f"value-of-{name.lower()}" for name in deploy_list("PLAIN_VARS")}
    secrets = {name: f"secret-of-{name.lower()}" for name in deploy_list("SECRET_VARS")}
    chosen = {"MODEL_PROVIDER": "gemini", "GOOGLE_GENAI_USE_VERTEXAI": "true"}
    env = {**ENV, **plain, **secrets, **chosen, "DATABASE_POOL_SIZE": "50"}
    result, calls, _ = deploy(tmp_path, "--project", "proj", "--region", "us-central1", env=env)
    assert result.returncode == 0, result.stderr
    expected = {**plain, **chosen, "GOOGLE_CLOUD_PROJECT": "proj"}
    forwarded = set()
    deploys = [c for c in calls if c[:2] == ["functions", "deploy"] or c[:3] == ["run", "jobs", "deploy"]]
    assert len(deploys) == len(FUNCTIONS) + 2  # and the migration and purge jobs
    for call in deploys:
        environment = yaml.safe_load((ROOT / flag(call, "--env-vars-file")).read_text())
        assert {name: environment.get(name) for name in expected} == expected, call[2]
        assert environment["APP_ENV"] == "production"
        forwarded |= {item.split("=")[0] for item in flag(call, "--set-secrets").split(",")}
    # Vertex AI runs on the service account's own credentials: no model key goes anywhere; the
    # GitHub App's secrets go to its functions only (deployed with --github-app).
    app_secrets = {"GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_CLIENT_SECRET"}
    assert forwarded == set(secrets) - {"GEMINI_API_KEY", "OPENAI_API_KEY"} - app_secrets
    # A value for what deploy.sh sets itself is not used, and it says so.
    assert "DATABASE_POOL_SIZE is set by deploy.sh itself" in result.stderr


def test_dry_run_shows_each_functions_environment(tmp_path):
    env = {**ENV, "STATIC_TOOL_TIMEOUT_SECONDS": "45"}
    result, _, _ = deploy(tmp_path, "--project", "p", "--region", "r", "--dry-run", env=env, gcloud=False)
    assert result.returncode == 0, result.stderr
    review_code = result.stdout.split("gcloud functions deploy review-code ", 1)[1].split("gcloud ", 1)[0]
    assert '#   STATIC_TOOL_TIMEOUT_SECONDS: "45"' in review_code
    assert "#   APP_ENV: production" in review_code
    assert "gemini-key" not in result.stdout  # secrets are named in --set-secrets, never shown


def test_an_openai_compatible_provider_gets_its_key_and_gemini_none(tmp_path):
    env = {**ENV, "OPENAI_API_KEY": "sk-proj-test", "GOOGLE_GENAI_USE_VERTEXAI": "true"}
    args = ("--project", "proj", "--region", "us-central1", "--functions", "review_code,history", "--skip-migrations")
    flags = ("--model-provider", "openai", "--openai-base-url", "http://10.0.0.5:8000/v1", "--openai-model", "qwen")
    result, calls, _ = deploy(tmp_path, *args, *flags, env=env)
    assert result.returncode == 0, result.stderr
    deploys = {c[2]: c for c in calls if c[:2] == ["functions", "deploy"]}
    review = flag(deploys["review-code"], "--set-secrets")
    assert "OPENAI_API_KEY=coderevai-openai-api-key:latest" in review and "GEMINI_API_KEY" not in review
    assert "OPENAI_API_KEY" not in flag(deploys["history"], "--set-secrets")
    environment = yaml.safe_load((ROOT / flag(deploys["review-code"], "--env-vars-file")).read_text())
    assert (environment["MODEL_PROVIDER"], environment["OPENAI_MODEL"]) == ("openai", "qwen")
    assert environment["OPENAI_BASE_URL"] == "http://10.0.0.5:8000/v1"
    assert "GOOGLE_GENAI_USE_VERTEXAI" not in environment  # no Vertex AI grant either
    assert not [c for c in calls if c[:2] == ["projects", "add-iam-policy-binding"]]
    assert not [c for c in calls if c[0] == "secrets" and "coderevai-gemini-api-key" in c]
    assert "sk-proj-test" not in result.stdout + json.dumps(calls)

    (tmp_path / "again").mkdir()
    missing, calls, _ = deploy(tmp_path / "again", *args, "--model-provider", "openai", env=ENV)
    assert missing.returncode != 0 and "--model-provider openai needs --openai-model" in missing.stderr
    assert calls == []
    other, _, _ = deploy(tmp_path / "again", *args, "--model-provider", "claude", env=ENV)
    assert "--model-provider must be gemini or openai" in other.stderr
