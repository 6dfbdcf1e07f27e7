"""Which review modes report which lint-level findings.

Lint-level rules say how code could read better, not that it is wrong: unused names, style
simplifications, comprehension rewrites, performance micro-hints, useless expressions, `assert` in
tests. They are reported only when a requested mode asks for them; a security or bug-fix review
does not carry them. Everything else (security, likely bugs, syntax, secrets, the structural rules)
is reported whatever the modes: its absence from a review would be a miss, not less noise.

A table rather than a severity cut: ruff rates B006 (a mutable default) and SIM108 alike for
severity purposes, yet one is a bug and the other a taste; only a list of rule families says which
is which. docs/reviews.md shows the same table."""

from __future__ import annotations

from collections.abc import Iterable

from coderevai_core.findings import Finding

from shared.review.static.dockerfile import LINT_CODES as HADOLINT_LINT
from shared.review.static.shell import LINT_CODES as SHELLCHECK_LINT
from shared.review.static.workflows import LINT_CODES as ZIZMOR_LINT

# family -> {source: rule ids}; "SIM*" stands for every rule id that starts with SIM. ruff's port of
# bandit (S-codes) carries bandit's numbers, so S101 is B101 when it is selected.
LINT_FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "unused code": {"ruff": ("F401", "F403", "F405", "F811", "F841", "B007")},
    "style simplifications": {
        "ruff": (
            "SIM*",
            "E401",
            "E402",
            "E701",
            "E702",
            "E703",
            "E704",
            "E711",
            "E712",
            "E713",
            "E714",
            "E721",
            "E731",
            "E741",
            "E742",
            "E743",
            "F541",
            "B009",
            "B010",
            "B026",
            "B028",
            "B904",
            "B905",
        ),
    },  # fmt: skip
    "comprehension rewrites": {"ruff": ("C4*",)},
    "performance micro-hints": {"ruff": ("PERF*",)},
    "useless expressions": {"ruff": ("B018", "B011")},
    "assert in tests": {"bandit": ("B101",), "ruff": ("S101",)},
    # shellcheck's info and style, hadolint's pins and caches, zizmor's pedantic audits
    "script and image hygiene": {"shellcheck": SHELLCHECK_LINT, "hadolint": HADOLINT_LINT, "zizmor": ZIZMOR_LINT},
}

# mode -> the lint families it asks for (modes not listed ask for none).
MODE_FAMILIES: dict[str, frozenset[str]] = {
    "comprehensive": frozenset(LINT_FAMILIES),
    "best_practices": frozenset(LINT_FAMILIES),
    "performance": frozenset({"performance micro-hints", "comprehension rewrites"}),
}


def family_of(finding: Finding) -> str | None:
    """The lint family of a finding, or None when it is not lint-level."""
    rule = finding.rule or ""
    for family, rules in LINT_FAMILIES.items():
        if _matches(rule, rules.get(finding.source, ())):
            return family
    return None


def is_lint(finding: Finding) -> bool:
    return family_of(finding) is not None


def families_for(modes: Iterable[str] | None) -> frozenset[str] | None:
    """The lint families the modes ask for; None (no modes given) means every family."""
    if modes is None:
        return None
    return frozenset().union(*(MODE_FAMILIES.get(mode, frozenset()) for mode in modes))


def wanted(findings: list[Finding], modes: Iterable[str] | None) -> list[Finding]:
    """The findings the modes report: every non-lint finding, and lint of the families asked for."""
    families = families_for(modes)
    if families is None:
        return findings
    return [f for f in findings if (family := family_of(f)) is None or family in families]


def _matches(rule: str, rules: tuple[str, ...]) -> bool:
    return any(rule == r or (r.endswith("*") and rule.startswith(r[:-1])) for r in rules)
