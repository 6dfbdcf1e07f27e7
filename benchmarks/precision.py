"""Precision of the offline reviewer, with recall kept. Prints figures; asserts nothing.

1. Per package, on the source distributions of popular projects (`pip download --no-binary` and
   `npm pack`, unpacked into a work directory): the static pass as a repository review runs it
   (shared.repo.job.static_pass; security + bug-fix modes when the pass takes modes), findings by
   severity and source, critical+high count, secret alarms (above info; in the package's own code,
   i.e. not tests, examples or docs) and at info (test fixtures), the lint-level share, and
   detect-secrets' alarms on the same files.
2. On the labelled secret cases (tests/fixtures/secrets): recall and false alarms, per class, for
   our secrets check and for detect-secrets, and the time per line of each.
3. detect-secrets' heuristic filters applied to our reported secrets: how many each would drop.
4. Recall on labelled vulnerable snippets (tests/fixtures/rule_cases*.yml positives, a few bandit
   ones and the labelled secrets), through the whole static pass.

    .venv/bin/python benchmarks/precision.py [--workdir DIR] [--packages flask requests ...] [--no-detect-secrets]

Reads whatever the static pass returns, so it keeps working as other branches change the findings.
Needs network access to the registries on the first run (the work directory is reused after)."""

from __future__ import annotations

import argparse
import inspect
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from coderevai_core import secret_scan  # noqa: E402
from coderevai_core.findings import SEVERITY_ORDER  # noqa: E402
from coderevai_core.selection import secret_kind  # noqa: E402

from shared.repo import job as repo_job  # noqa: E402
from shared.repo.files import select  # noqa: E402
from shared.review import static  # noqa: E402
from shared.review.outcome import SourceFile  # noqa: E402
from shared.review.static import noise, rules  # noqa: E402
from tests.support import secret_cases  # noqa: E402

PYTHON_PACKAGES = ("flask", "sqlalchemy", "requests", "django")
NPM_PACKAGES = ("express", "lodash", "react")
MODES = ("security", "bug_fixes")
RULE_SUFFIXES = {"python": ".py", "js": ".js", "ts": ".ts", "go": ".go", "java": ".java", "html": ".html",
                 "php": ".php", "ruby": ".rb", "erb": ".erb", "csharp": ".cs", "cs": ".cs", "kotlin": ".kt",
                 "rust": ".rs"}  # fmt: skip
# Vulnerable snippets bandit finds (the structural rules have theirs in rule_cases*.yml).
BANDIT_SNIPPETS = [
    ("B602", "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"),
    ("B307", "def calc(expression):\n    return eval(expression)\n"),
    ("B301", "import pickle\n\ndef load(blob):\n    return pickle.loads(blob)\n"),
    ("B506", "import yaml\n\ndef parse(text):\n    return yaml.load(text)\n"),
    ("B324", "import hashlib\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"),
    ("B501", "import requests\n\ndef get(url):\n    return requests.get(url, verify=False, timeout=5)\n"),
    ("B608", "def find(cursor, name):\n    cursor.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n"),
    ("B104", "def serve(app):\n    app.run(host='0.0.0.0')\n"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "coderevai-precision"))
    parser.add_argument("--packages", nargs="*", default=[*PYTHON_PACKAGES, *NPM_PACKAGES])
    parser.add_argument("--no-detect-secrets", action="store_true", help="skip detect-secrets (not installed?)")
    args = parser.parse_args()
    detect = None if args.no_detect_secrets else DetectSecrets.load()

    labelled_secrets(detect)
    vulnerable_recall()
    trees = fetch(Path(args.workdir), args.packages)
    packages(trees, detect)


# --- 1. packages -------------------------------------------------------------------------------


def fetch(workdir: Path, names: list[str]) -> dict[str, Path]:
    """Each package's unpacked source distribution, downloaded once into `workdir`."""
    downloads, trees = workdir / "downloads", workdir / "trees"
    downloads.mkdir(parents=True, exist_ok=True)
    trees.mkdir(exist_ok=True)
    python = [name for name in names if name in PYTHON_PACKAGES or name not in NPM_PACKAGES]
    npm = [name for name in names if name in NPM_PACKAGES]
    missing = [name for name in python if not _archive(downloads, name)]
    if missing:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ",".join(missing),
             "--dest", str(downloads), *missing],
            check=True,
        )  # fmt: skip
    missing = [name for name in npm if not _archive(downloads, name)]
    if missing:
        subprocess.run(["npm", "pack", "--silent", *missing], cwd=downloads, check=True, stdout=subprocess.DEVNULL)
    found = {}
    for name in names:
        archive = _archive(downloads, name)
        if archive is None:
            print(f"{name}: no source distribution downloaded")
            continue
        tree = trees / archive.name.removesuffix(".tar.gz").removesuffix(".tgz")
        if not tree.exists():
            with tarfile.open(archive) as tar:
                tar.extractall(tree, filter="data")
        found[name] = tree
    return found


def _archive(downloads: Path, name: str) -> Path | None:
    for archive in sorted(downloads.iterdir()):
        stem = archive.name.lower().replace("_", "-")
        if stem.startswith(f"{name.lower()}-") and stem.endswith((".tar.gz", ".tgz")):
            return archive
    return None


def read_tree(tree: Path) -> list[tuple[str, bytes]]:
    files = []
    for path in sorted(tree.rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            # The package's own layout: drop the archive's top directory (flask-3.1.3/, package/).
            relative = path.relative_to(tree).parts
            files.append(("/".join(relative[1:] if len(relative) > 1 else relative), path.read_bytes()))
    return files


def takes_modes(function) -> bool:
    return "modes" in inspect.signature(function).parameters


def run_static_pass(selection) -> list:
    """The repository review's static pass, in security + bug-fix modes where the pass takes modes
    (as the repository review's, or as static.analyse's with the secret-bearing files' findings)."""
    if takes_modes(repo_job.static_pass):
        return repo_job.static_pass(selection.files, selection.secret_files, modes=MODES)
    if takes_modes(static.analyse):
        held = [f for file in selection.secret_files for f in secret_scan.secret_file_findings(*file)]
        sources = [SourceFile(path=file.path, content=file.content) for file in selection.files]
        return held + static.analyse(sources, language="", modes=MODES)
    return repo_job.static_pass(selection.files, selection.secret_files)


def analyse(files: list[SourceFile]) -> list:
    return static.analyse(files, language="", modes=MODES) if takes_modes(static.analyse) else static.analyse(files, "")


def is_lint(finding) -> bool:
    """Lint-level, by the modes' family table where there is one (static/families.py), else by the
    rule prefixes the noise filter groups (and bandit's assert, useless expressions)."""
    try:
        from shared.review.static import families
    except ImportError:
        rule = finding.rule or ""
        return rule.startswith(getattr(noise, "LINT_PREFIXES", ())) or rule in ("B101", "S101", "B018", "B011")
    return families.is_lint(finding)


def packages(trees: dict[str, Path], detect: DetectSecrets | None) -> None:
    modes = (
        "security + bug fixes" if takes_modes(static.analyse) else "every lint family: this static pass takes no modes"
    )
    print(f"\n## Packages: the static pass ({modes}) on their source distributions\n")
    header = (
        "| package | files | lines | seconds | findings | critical | high | medium | low | info | "
        "critical+high | secret alarms (own code) | secrets at info | lint share | by source | detect-secrets | "
        "secrets check µs a line: ours / detect-secrets |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for tree in trees.values():
        selection = select(read_tree(tree))
        lines = sum(file.content.count("\n") + 1 for file in selection.files)
        started = time.perf_counter()
        findings = run_static_pass(selection)
        seconds = time.perf_counter() - started
        severities = Counter(finding.severity for finding in findings)
        sources = Counter(finding.source for finding in findings)
        secrets = [finding for finding in findings if finding.source == "secrets"]
        alarms = [f for f in secrets if f.severity != "info"]
        own = [f for f in alarms if not noise.is_side_code(f.file) and not secret_scan.place_of(f.file or "") == "docs"]
        lint = sum(is_lint(finding) for finding in findings)
        started = time.perf_counter()
        for file in selection.files:
            secret_scan.findings(file.content, file.path)
        for file in selection.secret_files:
            secret_scan.secret_file_findings(file.path, file.content)
        our_line = (time.perf_counter() - started) / max(lines, 1) * 1e6
        theirs, their_line = "-", "-"
        if detect is not None:
            scanned = [(f.path, f.content) for f in selection.files] + [
                (f.path, f.content) for f in selection.secret_files if f.content is not None
            ]
            theirs_found, their_seconds = detect.scan_files(scanned)
            theirs = str(len(theirs_found))
            their_line = f"{their_seconds / max(lines, 1) * 1e6:.0f}"
        print(
            f"| {tree.name} | {len(selection.files) + len(selection.secret_files)} | {lines:,} | {seconds:.1f} | "
            f"{len(findings)} | " + " | ".join(str(severities[s]) for s in SEVERITY_ORDER) + " | "
            f"{severities['critical'] + severities['high']} | {len(alarms)} ({len(own)}) | "
            f"{len(secrets) - len(alarms)} | {lint / max(len(findings), 1):.0%} | "
            + ", ".join(f"{source} {count}" for source, count in sources.most_common())
            + f" | {theirs} | {our_line:.0f} / {their_line} |"
        )
        for finding in own:
            print(f"    own-code secret alarm: {finding.file}:{finding.line} {finding.rule} ({finding.severity})")


# --- 2 and 3. labelled secret cases ---------------------------------------------------------------


class DetectSecrets:
    """detect-secrets 1.x as a library: its default plugins and filters, one file at a time."""

    def __init__(self, module, import_seconds: float) -> None:
        self.module = module
        self.import_seconds = import_seconds

    @classmethod
    def load(cls) -> DetectSecrets | None:
        started = time.perf_counter()
        try:
            import detect_secrets.core.scan  # noqa: F401
            import detect_secrets.filters.heuristic  # noqa: F401
            from detect_secrets import SecretsCollection  # noqa: F401
        except ImportError:
            print("detect-secrets is not installed (pip install detect-secrets): its columns are left out")
            return None
        import detect_secrets

        return cls(detect_secrets, time.perf_counter() - started)

    def scan_files(self, files: list[tuple[str, str]]) -> tuple[list[tuple[str, int]], float]:
        """(path, line) of every secret it reports, and the seconds it took."""
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings

        found = []
        with tempfile.TemporaryDirectory(prefix="crv-ds-") as root, default_settings():
            for path, text in files:
                target = Path(root, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", errors="replace")
            cwd = os.getcwd()
            os.chdir(root)  # it reports paths as given, relative to here
            try:
                started = time.perf_counter()
                collection = SecretsCollection()
                for path, _ in files:
                    collection.scan_file(path)
                seconds = time.perf_counter() - started
            finally:
                os.chdir(cwd)
        for filename in collection.files:
            found += [(filename, secret.line_number) for secret in collection[filename]]
        return found, seconds


def labelled_secrets(detect: DetectSecrets | None) -> None:
    cases = secret_cases.load()
    lines = sum(case.text.count("\n") or 1 for case in cases)
    started = time.perf_counter()
    ours = [bool(secret_cases.our_findings(case)) for case in cases]
    our_seconds = time.perf_counter() - started
    theirs: list[bool | None] = [None] * len(cases)
    their_seconds = 0.0
    if detect is not None:
        for index, case in enumerate(cases):
            found, seconds = detect.scan_files([(case.path, case.text)])
            theirs[index], their_seconds = bool(found), their_seconds + seconds

    print("## Labelled secret cases (tests/fixtures/secrets)\n")
    print("| class | label | cases | ours | detect-secrets |")
    print("|---|---|---|---|---|")
    classes = list(dict.fromkeys((case.label, case.kind) for case in cases))
    for label, kind in classes:
        indices = [i for i, case in enumerate(cases) if (case.label, case.kind) == (label, kind)]
        mine = sum(ours[i] for i in indices)
        other = "-" if detect is None else str(sum(bool(theirs[i]) for i in indices))
        print(f"| {kind} | {label} | {len(indices)} | {mine} | {other} |")
    secret = [i for i, case in enumerate(cases) if case.label == "secret"]
    clean = [i for i, case in enumerate(cases) if case.label == "clean"]
    our_recall = sum(ours[i] for i in secret) / len(secret)
    our_alarms = sum(ours[i] for i in clean)
    print(f"\nours: recall {our_recall:.1%} ({sum(ours[i] for i in secret)}/{len(secret)}), "
          f"false alarms {our_alarms}/{len(clean)}, {our_seconds / lines * 1e6:.0f} µs a line")  # fmt: skip
    if detect is not None:
        their_recall = sum(bool(theirs[i]) for i in secret) / len(secret)
        their_alarms = sum(bool(theirs[i]) for i in clean)
        print(
            f"detect-secrets: recall {their_recall:.1%} ({sum(bool(theirs[i]) for i in secret)}/{len(secret)}), "
            f"false alarms {their_alarms}/{len(clean)}, {their_seconds / lines * 1e6:.0f} µs a line, "
            f"import {detect.import_seconds * 1000:.0f} ms"
        )
        print(f"recall ratio ours/detect-secrets: {our_recall / max(their_recall, 1e-9):.2f}x; "
              f"false alarms ours/detect-secrets: {our_alarms}/{their_alarms}")  # fmt: skip
        heuristic_filters(cases)


def heuristic_filters(cases: list[secret_cases.Case]) -> None:
    """What calling detect-secrets' heuristic filters on our reported secrets would change: a
    filter that drops a labelled secret costs recall; one that drops a clean case would add
    precision (we report none, so it cannot)."""
    from detect_secrets.filters import heuristic

    checks = {
        "is_sequential_string": lambda value, line, path: heuristic.is_sequential_string(value),
        "is_potential_uuid": lambda value, line, path: heuristic.is_potential_uuid(value),
        "is_likely_id_string": lambda value, line, path: heuristic.is_likely_id_string(value, line),
        "is_templated_secret": lambda value, line, path: heuristic.is_templated_secret(value),
        "is_prefixed_with_dollar_sign": lambda value, line, path: heuristic.is_prefixed_with_dollar_sign(value),
        "is_indirect_reference": lambda value, line, path: heuristic.is_indirect_reference(line),
        "is_lock_file": lambda value, line, path: heuristic.is_lock_file(path),
        "is_not_alphanumeric_string": lambda value, line, path: heuristic.is_not_alphanumeric_string(value),
        "is_swagger_file": lambda value, line, path: heuristic.is_swagger_file(path),
    }
    dropped = Counter()
    values = 0
    started = time.perf_counter()
    for case in cases:
        for leak in secret_scan.scan(case.text, case.path, data=bool(secret_kind(case.path))):
            if not leak.reported:
                continue
            values += 1
            value = case.text[leak.start : leak.end]
            line = case.text.splitlines()[leak.line - 1] if case.text.splitlines() else ""
            for name, check in checks.items():
                if check(value, line, case.path):
                    dropped[(name, case.label)] += 1
    seconds = time.perf_counter() - started
    print(f"\ndetect-secrets' heuristic filters on our {values} reported values "
          f"({seconds / max(values, 1) * 1e6:.0f} µs a value, all filters):")  # fmt: skip
    for name in checks:
        print(f"  {name}: would drop {dropped[(name, 'secret')]} labelled secrets, {dropped[(name, 'clean')]} clean")


# --- 4. recall on vulnerable snippets ---------------------------------------------------------------


def vulnerable_recall() -> None:
    print("\n## Recall on labelled vulnerable snippets (the whole static pass)\n")
    snippets = []  # (group, expected rule, path, code)
    for cases_file in sorted((ROOT / "tests" / "fixtures").glob("rule_cases*.yml")):
        for rule_id, pair in (yaml.safe_load(cases_file.read_text(encoding="utf-8")) or {}).items():
            suffix = _suffix_for(rule_id)
            positive = pair[0] if isinstance(pair, list) and pair else None
            if suffix and isinstance(positive, str):
                snippets.append((f"rules ({cases_file.name})", rule_id, f"app/vulnerable{suffix}", positive))
    snippets += [("bandit", rule, "app/vulnerable.py", code) for rule, code in BANDIT_SNIPPETS]
    snippets += [
        ("secrets", None, case.path, case.text) for case in secret_cases.load() if case.label == "secret"
    ]  # fmt: skip
    found, serious = Counter(), Counter()
    totals = Counter(group for group, *_ in snippets)
    missed = []
    for group, rule, path, code in snippets:
        if secret_kind(path):
            hits = secret_scan.secret_file_findings(path, code)
        else:
            hits = analyse([SourceFile(path=path, content=code)])
        hits = [f for f in hits if (rule is None and f.source == "secrets") or (rule and _same_rule(f, rule))]
        found[group] += bool(hits)
        serious[group] += any(SEVERITY_ORDER.index(f.severity) <= SEVERITY_ORDER.index("medium") for f in hits)
        if not hits:
            missed.append(f"{group}: {rule or path}")
    print("| snippets | cases | found | found at medium or above |")
    print("|---|---|---|---|")
    for group, total in totals.items():
        print(f"| {group} | {total} | {found[group]} ({found[group] / total:.0%}) | {serious[group]} |")
    for line in missed:
        print(f"    missed: {line}")


def _suffix_for(rule_id: str) -> str | None:
    """A file suffix the rule applies to: its language's, else another grammar of its family (a
    template-only Ruby rule is fed as an .erb template, not as a .rb file it skips)."""
    preferred = RULE_SUFFIXES.get(rule_id.split("-")[0])
    for suffix in [preferred, *rules.GRAMMARS] if preferred else ():
        if any(rule.id == rule_id for rule in rules.rules_for(rules.GRAMMARS[suffix])):
            return suffix
    return preferred


def _same_rule(finding, rule: str) -> bool:
    """The finding is the rule's, or names it (bandit's id opens its detail; a finding merged from
    several analysers says "Also reported by bandit B608")."""
    return finding.rule == rule or re.search(rf"(?<![\w-]){re.escape(rule)}(?![\w-])", finding.detail or "") is not None


if __name__ == "__main__":
    main()
