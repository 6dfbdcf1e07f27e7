"""What a reader gets from the static pass on real packages (issue 19, items 3 and 4), per source
distribution you downloaded (`pip download --no-binary :all: --no-deps sqlalchemy flask`):

- findings and the lint-level share (static/families.py) when every family is reported (as a
  comprehensive review, or any caller that passes no modes) and in a security + bug-fix review;
- how many findings were merged from several analysers (noise.py's SAME_PROBLEM), and of which.

    .venv/bin/python benchmarks/noise.py sqlalchemy-2.1.9.tar.gz flask-3.1.3.tar.gz

The static pass runs once per package; the security + bug-fix figures select from its findings
with the same function the pass uses (families.wanted), which gives what a run with those modes
gives: lint families are chosen per rule, and no SAME_PROBLEM kind mixes lint with the rest."""

from __future__ import annotations

import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECURITY_AND_BUGS = ("security", "bug_fixes")


def package_files(archive: Path) -> list[tuple[str, bytes]]:
    files = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and (handle := tar.extractfile(member)) is not None:
                files.append((member.name.split("/", 1)[-1], handle.read()))
    return files


def main(archives: list[str]) -> None:
    from shared.repo.files import select
    from shared.repo.job import static_pass
    from shared.review.static.families import is_lint, wanted

    print("| package | files | findings (every family) | lint share | security + bug_fixes | lint share | merged |")
    print("|---|---|---|---|---|---|---|")
    merges: dict[str, Counter] = {}
    for archive in archives:
        selection = select(package_files(Path(archive)))
        started = time.perf_counter()
        everything = static_pass(selection.files, selection.secret_files)
        seconds = time.perf_counter() - started
        chosen = wanted(everything, SECURITY_AND_BUGS)
        merged = [f for f in everything if len(f.analysers) > 1]
        name = Path(archive).name.removesuffix(".tar.gz")
        merges[name] = Counter(" + ".join(f.analysers) for f in merged)

        def share(found: list) -> str:
            return f"{sum(map(is_lint, found)) / len(found):.1%}" if found else "-"

        print(
            f"| {name} | {len(selection.files)} | {len(everything)} | {share(everything)} | {len(chosen)} "
            f"| {share(chosen)} | {len(merged)} |  ({seconds:.0f} s)"
        )
    for name, counted in merges.items():
        print(f"merged in {name}: " + (", ".join(f"{kind} {n}" for kind, n in counted.most_common()) or "none"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
