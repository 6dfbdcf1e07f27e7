"""Our own structural rules for every common language, run by ast-grep (its Python bindings: a
Rust engine with tree-sitter grammars, loaded in-process). The rules are data: one YAML file per
language family under rules/, each rule with a positive and a negative case in the tests.

Why ast-grep and not semgrep: semgrep's open-source engine is a separate OCaml binary driven by a
Python CLI (1.7-2.2 s per call here, 58 MB wheel, 330 MB installed, LGPL-2.1); ast-grep-py is one
MIT-licensed extension module (5.7 MB wheel) that parses and matches in milliseconds in-process."""

from __future__ import annotations

import logging
import re
import threading
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from shared.languages import language_of
from shared.review.findings import Finding, Severity
from shared.review.outcome import SourceFile

log = logging.getLogger("coderevai.review.rules")

RULES_DIR = Path(__file__).with_name("rules")
# File suffix -> the ast-grep grammar that parses it.
GRAMMARS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".html": "html", ".htm": "html", ".jinja": "html", ".jinja2": "html",
    ".j2": "html", ".vue": "html", ".ejs": "html", ".hbs": "html", ".handlebars": "html",
}  # fmt: skip
# A snippet's language hint -> its grammar, when the snippet has no file name.
LANGUAGE_HINTS = {
    "python": "python", "py": "python", "python3": "python", "javascript": "javascript", "js": "javascript",
    "node": "javascript", "jsx": "javascript", "typescript": "typescript", "ts": "typescript", "tsx": "tsx",
    "go": "go", "golang": "go", "java": "java", "html": "html", "jinja": "html", "jinja2": "html",
    "django": "html", "vue": "html",
}  # fmt: skip
# Which rule file covers which grammar (TypeScript is JavaScript with types, as far as these rules go).
RULE_FILES = {
    "python": "python", "javascript": "javascript", "typescript": "javascript", "tsx": "javascript",
    "go": "go", "java": "java", "html": "html",
}  # fmt: skip


class Rule(NamedTuple):
    id: str
    severity: Severity
    category: str
    title: str
    why: str
    fix: str | None
    config: dict[str, Any]
    skip: frozenset[str]  # grammars of the family the rule does not apply to (a kind they lack)
    requires: tuple[str, ...]  # text a match must contain, one of them: without any, the rule is not run
    unless: tuple[str, ...]  # text that makes the file safe for the rule (a hardening call anywhere in it)
    tainted: bool  # whether it asks for request data (the per-file `tainted` util is built only then)


def unchecked_language(file: SourceFile, language: str) -> str | None:
    """The language of a source file no analyser here covers (Ruby, PHP, Rust, C#, ...), else None."""
    if PurePosixPath(file.path).suffix:
        return language_of(file.path)
    hint = language.strip().lower()
    return hint if hint and hint not in ("text", "plaintext", "plain", "other", "unknown") else None


def grammar_of(file: SourceFile, language: str) -> str | None:
    suffix = PurePosixPath(file.path).suffix.lower()
    if suffix:
        return GRAMMARS.get(suffix)
    return LANGUAGE_HINTS.get(language.strip().lower())


_load_lock = threading.Lock()


class Taint(NamedTuple):
    """How a rule family finds the local names bound to request data: `config` matches the binding
    (an assignment, a declaration), `field` holds the bound name(s)."""

    config: dict[str, Any]
    field: str


class Family(NamedTuple):
    rules: tuple[Rule, ...]
    taint: Taint | None


MAX_TAINTED_NAMES = 2000  # one regex alternation per rule run: keep it a sane size


@cache
def _family(family: str) -> Family:
    import yaml

    data = yaml.safe_load((RULES_DIR / f"{family}.yml").read_text(encoding="utf-8"))
    if context := data.get("pattern_context"):
        data = _in_context(data, context)
    utils = data.get("utils") or {}
    taint = None
    if names := data.get("tainted_names"):
        taint = Taint({"rule": names["rule"], "utils": utils}, names["name"])
    rules = []
    for item in data["rules"]:
        config = {"rule": item["rule"], "utils": {**utils, **(item.get("utils") or {})}}
        if "constraints" in item:
            config["constraints"] = item["constraints"]
        rules.append(
            Rule(
                item["id"],
                item["severity"],
                item.get("category", "security"),
                item["title"],
                item["why"],
                item.get("fix"),
                config,
                frozenset(item.get("skip", ())),
                tuple(item.get("requires", ())),
                tuple(item.get("unless", ())),
                "tainted" in repr(item["rule"]) or "tainted" in repr(item.get("constraints")),
            )
        )
    return Family(tuple(rules), taint)


def _in_context(node: Any, context: dict[str, str]) -> Any:
    """Every string pattern wrapped in the file's context: a Go call such as `db.Query($$$)` is no
    valid Go file on its own, so it must be parsed inside a function body and then selected."""
    if isinstance(node, list):
        return [_in_context(item, context) for item in node]
    if not isinstance(node, dict):
        return node
    wrapped = {}
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str) and "(" in value:  # calls; a lone $V stays as it is
            wrapped[key] = {"context": context["source"].replace("$PATTERN", value), "selector": context["selector"]}
        else:
            wrapped[key] = _in_context(value, context)
    return wrapped


def family_for(grammar: str) -> Family:
    """The rules for one grammar (and its taint declaration), read once per instance."""
    with _load_lock:  # concurrent first reviews read the file once
        family = _family(RULE_FILES[grammar])
    return family._replace(rules=tuple(rule for rule in family.rules if grammar not in rule.skip))


def rules_for(grammar: str) -> tuple[Rule, ...]:
    return family_for(grammar).rules


def scan(files: list[tuple[SourceFile, str]]) -> list[Finding]:
    """Findings of every rule on each (file, grammar)."""
    from ast_grep_py import SgRoot

    findings = []
    for file, grammar in files:
        family = family_for(grammar)
        # A substring test is microseconds; a rule's walk over a large tree is milliseconds.
        chosen = [rule for rule in family.rules if _applies(rule, file.content)]
        if not chosen:
            continue
        root = SgRoot(file.content, grammar).root()
        tainted = _tainted_util(root, family.taint if any(rule.tainted for rule in chosen) else None)
        for rule in chosen:
            config = {**rule.config, "utils": {**rule.config["utils"], "tainted": tainted}}
            try:
                matches = root.find_all(config)
            except RuntimeError:  # a rule the grammar cannot compile: the tests catch these, never a 500
                log.exception("rule %s does not compile for %s", rule.id, grammar)
                continue
            for node in matches:
                findings.append(
                    Finding(
                        severity=rule.severity,
                        category=rule.category,
                        title=rule.title,
                        detail=f"{rule.id}: {rule.why}",
                        line=node.range().start.line + 1,
                        file=file.path or None,
                        suggestion=rule.fix,
                        source="rules",
                        rule=rule.id,
                    )
                )
    return findings


def _applies(rule: Rule, text: str) -> bool:
    if rule.requires and not any(needle in text for needle in rule.requires):
        return False
    return not any(needle in text for needle in rule.unless)


def _tainted_util(root: Any, taint: Taint | None) -> dict[str, Any]:
    """The `tainted` util for one file: request data itself, or a name the file binds to it."""
    if taint is None:
        return {"matches": "from-request"}
    names: set[str] = set()
    for binding in root.find_all(taint.config):
        target = binding.field(taint.field)
        if target is None:
            continue
        # The name itself, or each name of a tuple or list target (a, b = ...); never the parts
        # of an attribute (self.x = ... must not make `self` tainted).
        targets = [target] if target.kind() == "identifier" else target.children()
        names.update(node.text() for node in targets if node.kind() == "identifier")
        if len(names) >= MAX_TAINTED_NAMES:
            break
    if not names:
        return {"matches": "from-request"}
    alternation = "|".join(re.escape(name) for name in sorted(names))
    return {"any": [{"matches": "from-request"}, {"kind": "identifier", "regex": f"^(?:{alternation})$"}]}
