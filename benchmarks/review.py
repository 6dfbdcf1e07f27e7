"""Review engine figures, in one run:

1. An uncached offline review (no model key) of a 60-line snippet, p50, against the analysers' own
   time on it (ruff, bandit, the rules and the secrets check, each run alone): target at most 3x.
2. The static pass on a generated 5,000-line Python file against its slowest analyser alone:
   target at most 1.1x.
3. A review served from the cache against an uncached one, with the fake Gemini's latency fixed,
   through the real google-genai client and a real (temporary SQLite) ReviewCache table.
4. The static pass on a generated mixed repository (Python, JS, Go, Java, PHP, Ruby, C#, shell
   scripts, Dockerfiles, workflows; --mixed-lines of each, in files of realistic size) against its
   slowest analyser alone on its share: target at most 1.1x. Each analyser's time alone is printed.

    .venv/bin/python benchmarks/review.py [--lines 5000] [--runs 5] [--latency 0.5] [--mixed-lines 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BLOCK = '''

def handler_{n}(request, items=[]):
    """Handle request {n}."""
    import subprocess
    total = 0
    for i in range(len(request.args)):
        total += i * {n}
    if request.args.get("debug") == True:
        subprocess.call("echo " + request.args["cmd"], shell=True)
    try:
        value = eval(request.args.get("expr", "0"))
    except:
        value = None
    return {{"total": total, "value": value, "items": items}}
'''


def generated_python(lines: int) -> str:
    header = "import os\nimport sys\nimport json\n"
    blocks, n = [header], 0
    while sum(b.count("\n") for b in blocks) < lines:
        blocks.append(BLOCK.format(n=n))
        n += 1
    return "".join(blocks)


def interleaved(runs: int, **fns) -> dict[str, float]:
    """Median seconds of each function, run in turns (a, b, c, a, b, c, ...): on a shared machine the
    load drifts, and ratios of figures taken minutes apart would measure the drift."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def analyser_timers() -> dict:
    """Each analyser alone on one Python file, as the static pass runs it (copies in a temp dir)."""
    from coderevai_core import secret_scan

    from shared.review.outcome import SourceFile
    from shared.review.static import python_tools, rules

    def with_copy(code, run):
        with tempfile.TemporaryDirectory() as workdir:
            root = Path(workdir)
            names = python_tools.write_copies([(0, SourceFile(path="a.py", content=code))], root)
            return run(root, names)

    return {
        "ruff": lambda code: with_copy(
            code, lambda root, names: python_tools.ruff_findings(python_tools.start_ruff(root), root, names)
        ),  # fmt: skip
        "bandit": lambda code: with_copy(code, python_tools.bandit_findings),
        "rules": lambda code: rules.scan([(SourceFile(path="a.py", content=code), "python")]),
        "secrets": lambda code: secret_scan.findings(code, "a.py"),
    }


MIXED_BLOCKS = {
    # language: (path of the n-th file, lines per file, one block of code with the usual problems)
    "javascript": (
        "web/routes{n}.js",
        300,
        """
app.get('/item{n}', async (req, res) => {{
  const row = await db.query("SELECT * FROM items WHERE id = " + req.query.id);
  const html = '<p>' + req.query.name + '</p>';
  res.send(html + JSON.stringify(row));
}});
""",
    ),
    "go": (
        "svc/handler{n}.go",
        300,
        """
func handler{n}(w http.ResponseWriter, r *http.Request) {{
\tq := fmt.Sprintf("SELECT * FROM t WHERE id = %s", r.FormValue("id"))
\trows, _ := db.Query(q)
\tfmt.Fprintf(w, "%v", rows)
}}
""",
    ),
    "java": (
        "src/main/java/app/Controller{n}.java",
        300,
        """
    public String find{n}(HttpServletRequest request) throws Exception {{
        String id = request.getParameter("id");
        ResultSet rs = statement.executeQuery("SELECT * FROM t WHERE id = " + id);
        return rs.getString(1);
    }}
""",
    ),
    "php": (
        "public/page{n}.php",
        300,
        """
function page{n}($db) {{
    $id = $_GET['id'];
    $rows = $db->query("SELECT * FROM items WHERE id = " . $id);
    echo "<p>" . $_GET['name'] . "</p>";
    return $rows;
}}
""",
    ),
    "ruby": (
        "app/controllers/items{n}_controller.rb",
        300,
        """
  def show{n}
    @item = Item.where("id = #{{params[:id]}}").first
    system("convert #{{params[:file]}} out.png")
    render html: params[:name].html_safe
  end
""",
    ),
    "csharp": (
        "Controllers/Items{n}Controller.cs",
        300,
        """
        public IActionResult Show{n}(string id) {{
            var cmd = new SqlCommand("SELECT * FROM Items WHERE Id = " + id, connection);
            return Content(cmd.ExecuteScalar().ToString());
        }}
""",
    ),
    "shell": (
        "scripts/task{n}.sh",
        300,
        """
task{n}() {{
  target=$1
  cd $target
  rm -rf $target/build/*
  for f in $(ls *.log); do
    grep -c error $f
  done
  eval "make $2"
}}
""",
    ),
    "dockerfile": (
        "services/svc{n}/Dockerfile",
        40,
        """
FROM python:3.12 AS stage{n}
RUN apt-get update && apt-get install -y curl git
COPY . /app
RUN cd /app && pip install -r requirements.txt
ENV MODE=production
USER root
""",
    ),
    "workflow": (
        ".github/workflows/ci{n}.yml",
        80,
        """
  job{n}:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: some-org/setup-tool@main
      - run: echo "${{{{ github.event.pull_request.title }}}}"
      - run: make test-{n}
""",
    ),
}
MIXED_HEADERS = {
    "javascript": "const express = require('express');\nconst app = express();\n",
    "go": 'package svc\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n',
    "java": "package app;\n\nimport java.sql.*;\n\npublic class Controller {\n",
    "php": "<?php\n",
    "ruby": "class ItemsController < ApplicationController\n",
    "csharp": "using System.Data.SqlClient;\n\npublic class ItemsController : Controller {\n",
    "shell": "#!/bin/bash\nset -u\n",
    "dockerfile": "",
    "workflow": "name: ci\non: pull_request\npermissions: write-all\njobs:\n",
}
MIXED_FOOTERS = {"java": "}\n", "ruby": "end\n", "csharp": "}\n"}


def mixed_repository(lines_each: int) -> list:
    """--mixed-lines lines of each language (Python in 300-line modules), in files of its usual size."""
    from shared.review.outcome import SourceFile

    files, n = [], 0
    python = generated_python(lines_each)
    chunks = python.split("\n\ndef ")
    per_file = max(len(chunks) * 300 // max(lines_each, 1), 1)
    for start in range(0, len(chunks), per_file):
        body = "\n\ndef ".join(chunks[start : start + per_file])
        files.append(
            SourceFile(path=f"pkg/module{start}.py", content=body if start == 0 else "import os\n\ndef " + body)
        )
    for language, (path, size, block) in MIXED_BLOCKS.items():
        written = 0
        while written < lines_each:
            content = MIXED_HEADERS[language]
            while content.count("\n") < size:
                content += block.format(n=n)
                n += 1
            content += MIXED_FOOTERS.get(language, "")
            files.append(SourceFile(path=path.format(n=n), content=content))
            written += content.count("\n")
    return files


def mixed_timers(files: list) -> dict:
    """Each analyser alone on its share of the mixed repository, as the static pass runs it."""
    from coderevai_core import secret_scan

    from shared.review.static import analyser, external, is_python, python_tools, rules

    python = [(index, file) for index, file in enumerate(files) if is_python(file, "")]
    structural = [(file, grammar) for file in files if (grammar := rules.grammar_of(file, ""))]

    def in_folder(run):
        with tempfile.TemporaryDirectory() as workdir:
            root = Path(workdir)
            return run(root, python_tools.write_copies(python, root))

    timers = {
        "ruff": lambda: in_folder(
            lambda root, names: python_tools.ruff_findings(python_tools.start_ruff(root), root, names)
        ),
        "bandit": lambda: in_folder(python_tools.bandit_findings),
        "rules": lambda: rules.scan(structural),
        "secrets": lambda: [secret_scan.findings(file.content, file.path) for file in files],
    }
    for kind in (external.SHELL, external.DOCKERFILE, external.WORKFLOW):
        chosen = [(index, file) for index, file in enumerate(files) if external.kind_of(file, "") == kind]
        tool = analyser(kind)

        def alone(tool=tool, chosen=chosen):
            with tempfile.TemporaryDirectory() as workdir:
                return external.collect(external.start(tool, chosen, Path(workdir)))

        timers[tool.binary] = alone
    return timers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.5, help="the fake Gemini's fixed latency, seconds")
    parser.add_argument("--mixed-lines", type=int, default=2000, help="lines of each language in the mixed repository")
    parser.add_argument("--only-mixed", action="store_true", help="print the mixed repository's figures only")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="crv-bench-")
    for name in [n for n in os.environ if n.startswith(("GEMINI_", "REVIEW_", "DATABASE_"))]:
        del os.environ[name]
    os.environ.update(LOG_LEVEL="WARNING", DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3")

    from alembic import command
    from alembic.config import Config

    from shared.config import get_settings
    from shared.review import static
    from shared.review.engine import SourceFile, review_files, static_review
    from tests.fakes.gemini import FakeGemini

    get_settings.cache_clear()
    alembic = Config(str(ROOT / "alembic.ini"))
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")

    mixed(args.mixed_lines, args.runs)
    if args.only_mixed:
        return
    snippet = generated_python(60)
    analysers = analyser_timers()
    static.analyse([SourceFile(path="warm.py", content=snippet)], "python")  # first use: imports bandit, reads rules

    def review():
        fresh = [SourceFile(path="", content=f"# {uuid.uuid4().hex}\n{snippet}")]  # never the same twice
        static_review(fresh, language="python")

    small = interleaved(
        args.runs * 3, review=review, **{k: lambda run=run: run(snippet) for k, run in analysers.items()}
    )
    p50, own = small.pop("review"), sum(small.values())
    print(f"offline review of a {snippet.count(chr(10))}-line snippet: p50 {p50 * 1000:.1f} ms; analysers' own time "
          f"{own * 1000:.1f} ms ({', '.join(f'{k} {v * 1000:.1f}' for k, v in small.items())}); "
          f"review/analysers = {p50 / own:.2f}x (target <= 3x)")  # fmt: skip

    code = generated_python(args.lines)
    files = [SourceFile(path="big.py", content=code)]
    static.analyse(files, "python")  # first large file: starts the bandit worker process (once an instance)
    big = interleaved(args.runs, static_pass=lambda: static.analyse(files, "python"),
                      **{k: lambda run=run: run(code) for k, run in analysers.items()})  # fmt: skip
    median = big.pop("static_pass")
    slowest = max(big, key=big.get)
    findings = static.analyse(files, "python")
    lines = code.count("\n")
    print(f"static pass, {lines} lines, {len(code) // 1024} KB: median {median * 1000:.0f} ms over {args.runs} runs "
          f"({lines / median:,.0f} lines/s), {len(findings)} findings after grouping; analysers alone: "
          f"{', '.join(f'{k} {v * 1000:.0f} ms' for k, v in big.items())}; "
          f"pass/slowest ({slowest}) = {median / big[slowest]:.2f}x (target <= 1.1x)")  # fmt: skip

    snippet = generated_python(60)
    with FakeGemini(latency=args.latency) as gemini:
        os.environ.update(GEMINI_API_KEY="bench", GEMINI_BASE_URL=gemini.url)
        get_settings.cache_clear()

        def uncached():
            fresh = [SourceFile(path="", content=f"# {uuid.uuid4().hex}\n{snippet}")]
            assert not review_files(fresh, language="python", modes=["security"]).cached

        review_files([SourceFile(path="", content=snippet)], language="python", modes=["security"])  # warm + fill

        def cached():
            assert review_files([SourceFile(path="", content=snippet)], language="python", modes=["security"]).cached

        uncached_times, cached_times = timed(uncached, args.runs), timed(cached, args.runs)
    slow, fast = statistics.median(uncached_times), statistics.median(cached_times)
    print(f"review of a {snippet.count(chr(10))}-line snippet, fake Gemini latency {args.latency * 1000:.0f} ms: "
          f"uncached median {slow * 1000:.0f} ms, cached median {fast * 1000:.1f} ms, "
          f"cached/uncached = {fast / slow:.4f} ({slow / fast:.0f}x faster)")  # fmt: skip


def mixed(lines_each: int, runs: int) -> None:
    from collections import Counter

    from shared.review import static

    files = mixed_repository(lines_each)
    timers = mixed_timers(files)
    static.analyse(files, "")  # first use: imports bandit, reads the rules, starts the bandit worker
    times = interleaved(runs, static_pass=lambda: static.analyse(files, ""), **timers)
    median = times.pop("static_pass")
    slowest = max(times, key=times.get)
    findings = static.analyse(files, "")
    lines = sum(file.content.count("\n") for file in files)
    covered = static.coverage(files, "", findings)
    by_source = Counter(finding.source for finding in findings)
    print(f"static pass, mixed repository of {len(files)} files, {lines} lines: median {median * 1000:.0f} ms over "
          f"{runs} runs; analysers alone: {', '.join(f'{k} {v * 1000:.0f} ms' for k, v in times.items())}; "
          f"pass/slowest ({slowest}) = {median / times[slowest]:.2f}x (target <= 1.1x), pass/all of them one after "
          f"another = {median / sum(times.values()):.2f}x; findings by source "
          f"{dict(sorted(by_source.items()))}; analysed {covered.analysed}; not checked {covered.unchecked}")  # fmt: skip


if __name__ == "__main__":
    main()
