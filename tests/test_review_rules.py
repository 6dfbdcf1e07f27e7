"""Our structural rules: each fires on its positive case (the first of its cases), at its own
severity, and stays quiet on its negative ones (the others: a safe variant, then any false alarm
found on real code, written again in our own words), in every grammar it is written for (JavaScript rules also on TypeScript). Sinks
rate by what reaches them (tests/fixtures/sink_cases.yml)."""

from __future__ import annotations

import re

import pytest
import yaml

from shared.review.outcome import SourceFile
from shared.review.static import rules
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
CASES_BY_FILE = {
    path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("rule_cases*.yml"))
}
CASES = {rule_id: pair for cases in CASES_BY_FILE.values() for rule_id, pair in cases.items()}
SINK_CASES = yaml.safe_load((FIXTURES / "sink_cases.yml").read_text(encoding="utf-8"))
# Ruby rules run on ERB templates too (rewritten into the Ruby they run): each Ruby case is also
# checked inside one <% %> tag; a rule for templates only has template cases.
# C# rules run on Razor views the same way: each case inside @{ } (statements) or @functions { } (types).
GRAMMARS = {"python": ["python"], "js": ["javascript", "typescript", "tsx"], "go": ["go"], "java": ["java"],
            "html": ["html"], "php": ["php"], "ruby": ["ruby", "erb"], "csharp": ["csharp", "razor"],
            "kotlin": ["kotlin"], "rust": ["rust"]}  # fmt: skip


def all_rules() -> list[rules.Rule]:
    return [rule for family in sorted(set(rules.RULE_FILES.values())) for rule in rules._family(family).rules]


def cases():
    for rule_id, (positive, *negatives) in CASES.items():
        for grammar in GRAMMARS[rule_id.split("-")[0]]:
            for number, negative in enumerate(negatives):
                suffix = f"-{number + 1}" if number else ""
                yield pytest.param(rule_id, grammar, positive, negative, id=f"{rule_id}[{grammar}]{suffix}")


def fired(code: str, grammar: str) -> set[str]:
    return {finding.rule for finding in rules.scan([(SourceFile(path="", content=code), grammar)])}


def severities(code: str, grammar: str, rule_id: str) -> set[str]:
    found = rules.scan([(SourceFile(path="", content=code), grammar)])
    return {finding.severity for finding in found if finding.rule == rule_id}


def test_every_rule_has_a_positive_and_a_negative_case():
    ids = [rule.id for rule in all_rules()]
    assert len(ids) == len(set(ids))
    assert sum(len(cases) for cases in CASES_BY_FILE.values()) == len(CASES)  # no rule in two files
    assert sorted(ids) == sorted(CASES)
    assert all(len(cases) >= 2 for cases in CASES.values())  # a positive and at least one negative


class _StrictLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys silently: in a rule, a second `has:` would drop the first."""


def _no_duplicate_keys(loader, node, deep=False):
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    assert len(keys) == len(set(keys)), f"line {node.start_mark.line + 1}: a key twice in {keys}"
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


@pytest.mark.parametrize("path", sorted(rules.RULES_DIR.glob("*.yml")), ids=lambda path: path.name)
def test_rule_files_name_each_key_once(path):
    yaml.load(path.read_text(encoding="utf-8"), _StrictLoader)  # noqa: S506 - a SafeLoader subclass


@pytest.mark.parametrize(("rule_id", "grammar", "positive", "negative"), list(cases()))
def test_rule_fires_on_its_case_and_not_on_the_safe_one(rule_id, grammar, positive, negative):
    applies = rule_id in {rule.id for rule in rules.rules_for(grammar)}
    if grammar == "typescript" and rule_id == "js-react-dangerous-html":
        assert not applies  # plain .ts has no JSX: the tsx grammar covers it
        return
    if grammar == "erb" and "ruby" in {rule.id: rule for rule in all_rules()}[rule_id].skip:
        pass  # a rule for templates: its cases are templates
    elif grammar == "erb":
        assert applies
        positive, negative = f"<%\n{positive}\n%>\n", f"<%\n{negative}\n%>\n"
    elif grammar == "razor":
        assert applies
        positive, negative = _in_view(positive), _in_view(negative)
    elif not applies:
        assert grammar == "ruby"  # a template-only rule
        return
    [rule] = [rule for rule in rules.rules_for(grammar) if rule.id == rule_id]
    assert severities(positive, grammar, rule_id) == {rule.severity}  # a source reaches every positive case
    assert rule_id not in fired(negative, grammar)


def _in_view(code: str) -> str:
    """C# in a Razor view: type declarations in @functions { }, statements in @{ }."""
    types = re.match(r"\s*(\[[^\]]*\]\s*)*((public|internal|static|sealed|abstract|partial)\s+)*class\b", code)
    return f'<h1>@ViewData["Title"]</h1>\n@{"functions " if types else ""}{{\n{code}}}\n<p>end</p>\n'


@pytest.mark.parametrize("case", SINK_CASES, ids=[f"{case['rule']}: {case['why']}" for case in SINK_CASES])
def test_a_sink_is_rated_by_what_reaches_it(case):
    expected = {case["severity"]} if case["severity"] else set()
    assert severities(case["code"], case["grammar"], case["rule"]) == expected


def test_an_unsourced_sink_says_to_check_the_value():
    code = "def render(source):\n    return render_template_string(source)\n"
    [finding] = rules.scan([(SourceFile(path="lib.py", content=code), "python")])
    assert finding.severity == "low" and "check where this value comes from" in finding.detail
    assert finding.rule == "python-template-injection"


def test_findings_carry_rule_file_line_and_advice():
    code = "const a = 1;\n\nel.innerHTML = location.hash;\n"
    [finding] = rules.scan([(SourceFile(path="web/app.js", content=code), "javascript")])
    assert (finding.rule, finding.file, finding.line, finding.source) == ("js-xss-sink", "web/app.js", 3, "rules")
    assert finding.severity == "high" and finding.suggestion


@pytest.mark.parametrize(
    ("path", "language", "grammar"),
    [("a.py", "", "python"), ("b.tsx", "", "tsx"), ("c.ts", "", "typescript"), ("d.go", "", "go"),
     ("E.java", "", "java"), ("t.html", "", "html"), ("t.jinja2", "", "html"), ("", "TypeScript", "typescript"),
     ("x.rb", "", "ruby"), ("", "ruby", "ruby"), ("", "Rails", "ruby"), ("t.rake", "", "ruby"),
     ("v/show.html.erb", "", "erb"), ("i.php", "", "php"), ("v.phtml", "", "php"), ("", "php", "php"),
     ("C.cs", "", "csharp"), ("", "C#", "csharp"), ("M.kt", "", "kotlin"), ("b.gradle.kts", "", "kotlin"),
     ("", "kotlin", "kotlin"), ("Views/Home/Index.cshtml", "", "razor"), ("Pages/Counter.razor", "", "razor"),
     ("", "razor", "razor"), ("m.rs", "", "rust"), ("", "rust", "rust"), ("a.swift", "", None),
     ("", "swift", None), ("README.md", "python", None)],
)  # fmt: skip
def test_each_file_gets_its_grammar(path, language, grammar):
    assert rules.grammar_of(SourceFile(path=path, content=""), language) == grammar


def test_request_data_through_a_local_name_is_followed_across_a_long_function():
    """Thousands of request-bound names and their uses in one function: the names are collected in
    one pass a file (searching the function from each use took ~25 s for 4,000 pairs)."""
    body = "".join(f"  const v{i} = req.query.a{i};\n  fetch(v{i});\n  fetch(safe{i});\n" for i in range(1500))
    code = f"app.get('/x', (req, res) => {{\n{body}}});\n"
    findings = rules.scan([(SourceFile(path="big.js", content=code), "javascript")])
    assert [f.line for f in findings if f.rule == "js-ssrf"] == [3 + 3 * i for i in range(1500)]
