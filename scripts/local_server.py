"""Every function on one local port, each built by functions-framework exactly as Cloud Functions
builds it. The web app's paths (/api/history, /api/subscription, ...) come from the routes table in
shared/routes.py, each handed to its function under the path the load balancer would rewrite it to;
each function also answers under its own name (/history, /billing/checkout, ...), as deployed.

    python scripts/local_server.py [--port 8080]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import functions_framework  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from shared.routes import ROUTES, function_url_name, functions  # noqa: E402


def present_functions() -> list[str]:
    return [name for name in functions() if (ROOT / "functions" / name / "main.py").exists()]


def build_app():
    apps = {
        name: functions_framework.create_app(name, str(ROOT / "functions" / name / "main.py"))
        for name in present_functions()
    }
    # Exact paths, as the load balancer's path rules match them: /api/history/feedback is its own route.
    routes = {route.path: (apps[route.function], route.target) for route in ROUTES if route.function in apps}
    mounts = {"/" + function_url_name(name): app for name, app in apps.items()}

    def dispatch(environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        routed = routes.get(path.rstrip("/") or "/")
        if routed is not None:
            app, target = routed
            return app({**environ, "SCRIPT_NAME": "", "PATH_INFO": target}, start_response)
        prefix = "/" + path.lstrip("/").split("/", 1)[0]
        if prefix in mounts:
            # Cloud Functions hands a function `/` for its bare URL, and the rest of the path after it.
            rest = path[len(prefix) :] or "/"
            return mounts[prefix]({**environ, "SCRIPT_NAME": prefix, "PATH_INFO": rest}, start_response)
        return _not_found(sorted(routes))(environ, start_response)

    return dispatch


def _not_found(paths: list[str]) -> Response:
    message = f"No function here; try one of: {', '.join(paths)}"
    body = {"code": "NOT_FOUND", "message": message, "error": message, "retryable": False, "reason": "NOT_FOUND"}
    return Response(json.dumps(body), status=404, mimetype="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    from werkzeug.serving import run_simple

    print(
        f"serving {', '.join(present_functions())} on http://{args.host}:{args.port} (web app paths under /api/)",
        flush=True,
    )
    run_simple(args.host, args.port, build_app(), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
