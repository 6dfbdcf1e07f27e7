"""Prints what the routes table (shared/routes.py) means to the things in front of the functions.

    python scripts/routes.py functions
        the functions the table names, one a line, in table order (deploy.sh reads it)
    python scripts/routes.py url-map --project P --domain app.example.com [--functions a,b]
        the load balancer's URL map, YAML for `gcloud compute url-maps import`: each route an exact
        path rule, rewritten to the path its function expects; everything else to the front end
    python scripts/routes.py next-rewrites --project P --region R
    python scripts/routes.py next-rewrites --local [http://127.0.0.1:8080]
        Next.js rewrites (JSON, for next.config.js): to the deployed functions, or to the local
        one-port server, which serves the /api paths itself

Only the standard library: deploy.sh runs this with whatever python3 the deploying machine has.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.routes import ROUTES, Route, function_url_name, functions  # noqa: E402

PREFIX = "coderevai"
LOCAL_SERVER = "http://127.0.0.1:8080"


def backend_service(function: str, prefix: str = PREFIX) -> str:
    """deploy.sh names each function's backend service this way; the front end's is `<prefix>-frontend`."""
    return f"{prefix}-{function_url_name(function)}"


def url_map(project: str, domain: str, name: str, routed: tuple[str, ...] | None = None, prefix: str = PREFIX) -> dict:
    """Routes whose function is not in `routed` are left out, so they fall to the front end."""

    def service(backend: str) -> str:
        return f"https://www.googleapis.com/compute/v1/projects/{project}/global/backendServices/{backend}"

    frontend = service(f"{prefix}-frontend")
    rules = [
        {
            # An exact path (no `/*`): the table lists every path the web app calls, nothing under them.
            "paths": [route.path],
            "routeAction": {"urlRewrite": {"pathPrefixRewrite": route.target}},
            "service": service(backend_service(route.function, prefix)),
        }
        for route in ROUTES
        if routed is None or route.function in routed
    ]
    return {
        "kind": "compute#urlMap",
        "name": name,
        "defaultService": frontend,
        "hostRules": [{"hosts": [domain], "pathMatcher": "routes"}],
        "pathMatchers": [{"name": "routes", "defaultService": frontend, "pathRules": rules}],
    }


def to_yaml(value: object, indent: int = 0) -> str:
    """Block YAML for plain dicts, lists and strings. Written here because PyYAML is not a runtime
    dependency and deploy.sh may run on a bare python3; each scalar is a JSON string, which YAML
    reads as a double-quoted scalar, so no path or URL needs escaping rules of its own."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                nested = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {nested.lstrip()}")
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    return "\n".join(lines)


def deployed_destination(route: Route, project: str, region: str) -> str:
    """A gen2 function at https://REGION-PROJECT.cloudfunctions.net/NAME is handed `/` for its bare
    URL and `/checkout` for NAME/checkout."""
    base = f"https://{region}-{project}.cloudfunctions.net/{function_url_name(route.function)}"
    return base if route.target == "/" else base + route.target


def next_rewrites(destination) -> dict:
    """`beforeFiles`: the web app has route handlers of its own under app/api/, and rewrites
    returned as a plain array are checked only after those, so they would never apply."""
    return {"beforeFiles": [{"source": route.path, "destination": destination(route)} for route in ROUTES]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("functions", help="the functions the table names, one a line")
    urlmap = commands.add_parser("url-map", help="the load balancer's URL map, as YAML")
    urlmap.add_argument("--project", required=True)
    urlmap.add_argument("--domain", required=True)
    urlmap.add_argument("--name", default=f"{PREFIX}-url-map")
    urlmap.add_argument("--prefix", default=PREFIX, help="the backend services' name prefix")
    urlmap.add_argument("--functions", help="comma-separated: route only these (default: every function)")
    rewrites = commands.add_parser("next-rewrites", help="Next.js rewrites, as JSON")
    rewrites.add_argument("--project")
    rewrites.add_argument("--region")
    rewrites.add_argument("--local", nargs="?", const=LOCAL_SERVER, metavar="URL", help=f"default {LOCAL_SERVER}")
    args = parser.parse_args(argv)

    if args.command == "functions":
        print("\n".join(functions()))
    elif args.command == "url-map":
        routed = tuple(args.functions.split(",")) if args.functions else None
        unknown = sorted(set(routed or ()) - set(functions()))
        if unknown:
            parser.error(f"the routes table names no function {', '.join(unknown)}")
        print(to_yaml(url_map(args.project, args.domain, args.name, routed, args.prefix)))
    elif args.local:
        local = args.local.rstrip("/")
        print(json.dumps(next_rewrites(lambda route: local + route.path), indent=2))
    else:
        if not (args.project and args.region):
            parser.error("next-rewrites needs --project and --region (or --local)")
        print(json.dumps(next_rewrites(lambda route: deployed_destination(route, args.project, args.region)), indent=2))


if __name__ == "__main__":
    main()
