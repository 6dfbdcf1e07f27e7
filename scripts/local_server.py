"""Every function on one local port, each built by functions-framework exactly as Cloud Functions
builds it, mounted under its path (/history, /review-code, ...).

    python scripts/local_server.py [--port 8080]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import functions_framework  # noqa: E402
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

FUNCTIONS = ("review_code", "review_repo", "generate_diff", "history", "billing", "stripe_webhook")


def present_functions() -> list[str]:
    return [name for name in FUNCTIONS if (ROOT / "functions" / name / "main.py").exists()]


def _rooted(app):
    """Cloud Functions hands a function `/` for its bare URL; the dispatcher would hand it ''."""

    def serve(environ, start_response):
        if not environ.get("PATH_INFO"):
            environ = {**environ, "PATH_INFO": "/"}
        return app(environ, start_response)

    return serve


def build_app():
    mounts = {
        "/" + name.replace("_", "-"): _rooted(
            functions_framework.create_app(name, str(ROOT / "functions" / name / "main.py"))
        )
        for name in present_functions()
    }

    def index(environ, start_response):
        paths = ", ".join(sorted(mounts))
        body = f'{{"error": "No function here; try one of: {paths}", "code": "NOT_FOUND", "retryable": false}}'
        return Response(body, status=404, mimetype="application/json")(environ, start_response)

    return DispatcherMiddleware(index, mounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    from werkzeug.serving import run_simple

    print(f"serving {', '.join(present_functions())} on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, build_app(), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
