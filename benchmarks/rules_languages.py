"""Precision and recall of the PHP, Ruby/ERB, C#/Razor, Kotlin and Rust rules, in one run:

1. Recall: our own vulnerable snippets (benchmarks/vulnerable/, one small app per language, each
   vulnerable line marked VULN): marked lines found by a rule, at any severity and at high/critical.
2. Precision: the rules over real libraries' source trees given on the command line (one directory
   per package, e.g. Debian's php-* / ruby-* / librust-*-dev packages unpacked with dpkg-deb -x):
   files, findings by severity, and every high/critical finding (target: at most 2 per mature package).

    .venv/bin/python benchmarks/rules_languages.py [PACKAGE_DIR ...]
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.review.outcome import SourceFile  # noqa: E402
from shared.review.static import noise, rules  # noqa: E402

LANGUAGES = {"php", "ruby", "erb", "csharp", "razor", "kotlin", "rust"}
MAX_BYTES = 512 * 1024


def sources(tree: Path) -> list[tuple[SourceFile, str]]:
    found = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        relative = str(path.relative_to(tree))
        if (grammar := rules.grammar_of(SourceFile(path=relative, content=""), "")) in LANGUAGES:
            text = path.read_text(encoding="utf-8", errors="replace")
            found.append((SourceFile(path=relative, content=text), grammar))
    return found


def recall() -> None:
    print("recall on our vulnerable snippets (benchmarks/vulnerable/)")
    print(f"{'file':24} {'marked':>6} {'found':>6} {'high+':>6}  missed")
    for path in sorted((ROOT / "benchmarks" / "vulnerable").iterdir()):
        file = SourceFile(path=path.name, content=path.read_text(encoding="utf-8"))
        grammar = rules.grammar_of(file, "")
        lines = enumerate(file.content.splitlines(), 1)
        marked = {number for number, line in lines if re.search(r"VULN [a-z-]+( %>)?$", line)}
        findings = rules.scan([(file, grammar)])
        found = {f.line for f in findings} & marked
        severe = {f.line for f in findings if f.severity in ("high", "critical")} & marked
        print(f"{path.name:24} {len(marked):6} {len(found):6} {len(severe):6}  {sorted(marked - found)}")


def precision(trees: list[Path]) -> None:
    print("\nprecision on real packages (findings of these rules; high/critical listed)")
    print(f"{'package':34} {'files':>5} {'crit':>4} {'high':>4} {'med':>4} {'low':>4} {'secs':>5} {'high+ shown':>11}")
    for tree in trees:
        files = sources(tree)
        started = time.perf_counter()
        findings = rules.scan(files)
        seconds = time.perf_counter() - started
        by = Counter(f.severity for f in findings)
        # what a review shows: tests and examples rank a step lower, repeats are grouped
        shown = noise.calibrate(findings, [file for file, _ in files])
        severe = sum(f.severity in ("critical", "high") for f in shown)
        print(
            f"{tree.name:34} {len(files):5} {by['critical']:4} {by['high']:4} {by['medium']:4} {by['low']:4}"
            f" {seconds:5.2f} {severe:11}"
        )
        for f in findings:
            if f.severity in ("critical", "high"):
                print(f"    {f.severity:8} {f.rule:32} {f.file}:{f.line}")


if __name__ == "__main__":
    recall()
    precision([Path(arg) for arg in sys.argv[1:]])
