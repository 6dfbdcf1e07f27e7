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

# The external analysers' lint-level codes (their modules read them here too). shellcheck: the codes
# whose default level is info or style, and the warnings that are style in practice (unused
# variable, declare-and-assign).
SHELLCHECK_LINT = (
    "SC2001", "SC2002", "SC2003", "SC2004", "SC2005", "SC2006", "SC2009", "SC2012", "SC2013", "SC2015",
    "SC2016", "SC2018", "SC2019", "SC2020", "SC2021", "SC2030", "SC2031", "SC2034", "SC2035", "SC2059",
    "SC2086", "SC2094", "SC2103", "SC2116", "SC2119", "SC2126", "SC2129", "SC2143", "SC2148", "SC2153",
    "SC2155", "SC2162", "SC2181", "SC2196", "SC2197", "SC2219", "SC2223", "SC2230", "SC2236", "SC2237",
    "SC2268", "SC2292", "SC2312",
)  # fmt: skip
# hadolint's version pins, apt and pip cache hygiene and style.
HADOLINT_LINT = (
    "DL3001", "DL3003", "DL3008", "DL3009", "DL3010", "DL3013", "DL3015", "DL3016", "DL3018", "DL3019",
    "DL3028", "DL3033", "DL3037", "DL3041", "DL3042", "DL3047", "DL3048", "DL3049", "DL3050", "DL3059",
    "DL3060", "DL3066", "DL4000",
)  # fmt: skip
# zizmor's pedantic-only audits.
ZIZMOR_LINT = ("anonymous-definition", "concurrency-limits", "undocumented-permissions")

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
