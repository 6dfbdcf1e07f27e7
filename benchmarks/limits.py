"""The largest request each input-taking function accepts, end to end through functions-framework
(the fake Gemini as the model, a temporary SQLite database), one fresh process per function: wall
time and peak memory (ru_maxrss of the process, and of its children: bandit's worker), next to the
memory deploy.sh gives the function (docs/deploy.md).

    .venv/bin/python benchmarks/limits.py [--only review_code] [--offline]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEPLOYED_MIB = {"review_code": 512, "generate_diff": 512, "review_repo": 1024}  # deploy.sh resources_for
UNIT = (
    "import os\n\n\ndef handler_{n}(request):\n    value = request.args.get('x')\n"
    "    os.system(value)\n    return eval(value)\n\n\n"
)


def python_code(size: int) -> str:
    out, n, total = [], 0, 0
    while total < size:
        block = UNIT.format(n=n)
        out.append(block)
        total += len(block)
        n += 1
    return "".join(out)[:size]


def body_for(function: str) -> bytes:
    from coderevai_core.selection import MAX_FILE_BYTES, MAX_TOTAL_BYTES

    from shared.http import PLATFORM_MAX_BODY_BYTES
    from shared.review.schemas import MAX_DIFF_CODE_BYTES

    if function == "review_code":
        envelope = len(json.dumps({"code": "", "language": "python", "reviewModes": ["security"]}))
        code = python_code(PLATFORM_MAX_BODY_BYTES - envelope - 200_000)  # JSON escapes each newline: 2 bytes
        body = json.dumps({"code": code, "language": "python", "reviewModes": ["security"]}).encode()
        while len(body) > PLATFORM_MAX_BODY_BYTES:
            code = code[: len(code) - (len(body) - PLATFORM_MAX_BODY_BYTES) - 10]
            body = json.dumps({"code": code, "language": "python", "reviewModes": ["security"]}).encode()
        return body
    if function == "review_repo":
        per_file = MAX_FILE_BYTES - 1024
        count = min(MAX_TOTAL_BYTES // per_file, (PLATFORM_MAX_BODY_BYTES - 100_000) // (per_file + 120_000))
        files = [{"path": f"pkg/module_{i}.py", "content": python_code(per_file)} for i in range(count)]
        return json.dumps({"files": files, "reviewModes": ["security"]}).encode()
    code = python_code(MAX_DIFF_CODE_BYTES - 1)
    return json.dumps({"originalCode": code, "language": "python", "feedback": "Remove eval."}).encode()


def measure(function: str, offline: bool) -> dict:
    """In this (fresh) process: one request, its time and the process's peak memory."""
    import functions_framework

    from tests.fakes.gemini import FakeGemini, generation

    body = body_for(function)
    fake = FakeGemini().__enter__()
    if function == "generate_diff":  # the model writes the whole file back, one line changed
        code = json.loads(body)["originalCode"]
        fake.then(generation({"modifiedCode": code.replace("eval(value)", "int(value)", 1)}))
    os.environ.update(LOG_LEVEL="WARNING", DATABASE_URL=f"sqlite:///{tempfile.mkdtemp()}/limits.sqlite3")
    if not offline:
        os.environ.update(GEMINI_API_KEY="bench-key", GEMINI_BASE_URL=fake.url)
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = os.environ["DATABASE_URL"]
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    app = functions_framework.create_app(function, str(ROOT / "functions" / function / "main.py"))
    client = app.test_client()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.post("/", data=body, headers={"X-Dev-User": "bench", "Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    fake.__exit__()
    return {
        "function": function,
        "bodyBytes": len(body),
        "status": response.status_code,
        "seconds": round(elapsed, 1),
        "modelCalls": len(fake.calls),
        "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "beforeMiB": before // 1024,
        "childrenPeakMiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(DEPLOYED_MIB))
    parser.add_argument("--offline", action="store_true", help="no model: the static pass is the whole review")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.offline)))
        return
    print(
        f"{'function':14} {'body':>10} {'status':>6} {'time':>8} {'calls':>5} {'peak':>9} {'workers':>9} {'deployed':>9}"
    )
    for function in [args.only] if args.only else sorted(DEPLOYED_MIB):
        command = [sys.executable, __file__, "--child", function] + (["--offline"] if args.offline else [])
        result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(
            f"{function:14} {result['bodyBytes'] / 2**20:>8.1f}Mi {result['status']:>6} {result['seconds']:>7}s"
            f" {result['modelCalls']:>5} {result['peakMiB']:>6} MiB {result['childrenPeakMiB']:>5} MiB"
            f" {DEPLOYED_MIB[function]:>5} MiB"
        )


if __name__ == "__main__":
    main()
