"""The scan driver: every applicable rule of a family on each file, each sink rated by whether a
source reaches it; and which of another analyser's lines a source reaches."""

from __future__ import annotations

import bisect
import logging
from typing import Any

from coderevai_core.findings import Finding

from shared.review.outcome import SourceFile
from shared.review.static.rules import cache
from shared.review.static.rules.family import Rule, family_for
from shared.review.static.rules.taint import Sources, bound_names, names_util

log = logging.getLogger("coderevai.review.rules")

# Grammars ast-grep lacks, parsed as another after a rewrite: an ERB template as the Ruby it runs,
# a Razor view as the C# it runs.
PARSED_AS = {"erb": "ruby", "razor": "csharp"}
UNSOURCED_NOTE = " No request data or route parameter reaches it in this function: check where this value comes from."


def scan(files: list[tuple[SourceFile, str]]) -> list[Finding]:
    """Findings of every rule on each (file, grammar)."""
    from ast_grep_py import SgRoot

    findings = []
    for file, grammar in files:
        family = family_for(grammar)
        # A substring test is microseconds; a rule's walk over a large tree is milliseconds.
        sourced = not family.sources_require or any(needle in file.content for needle in family.sources_require)
        chosen = [rule for rule in family.rules if _applies(rule, file.content) and (sourced or not rule.tainted)]
        if not chosen:
            continue
        root = SgRoot(_source_for(file.content, grammar), PARSED_AS.get(grammar, grammar)).root()
        # Sources are found when a rule's pattern asks for them, or on a sink's first match.
        sources = Sources(root, family) if any(rule.tainted for rule in chosen) else None
        utils = {"tainted": sources.tainted_util() if sources else {"matches": "from-request"}}
        for util, binding in family.bound.items():
            if any(util in rule.names_bound for rule in chosen):
                utils[util] = names_util(
                    bound_names(root, binding.config, binding.field, family.identifiers), family.identifiers
                )
        for rule in chosen:
            config = {**rule.config, "utils": {**rule.config["utils"], **utils}}
            try:
                matches = root.find_all(config)
            except RuntimeError:  # a rule the grammar cannot compile: the tests catch these, never a 500
                log.exception("rule %s does not compile for %s", rule.id, grammar)
                continue
            for node in matches:
                severity, detail = rule.severity, f"{rule.id}: {rule.why}"
                if rule.sink and sources is None:
                    sources = Sources(root, family)
                if rule.sink and not sources.reach(node, function=rule.whole_function):
                    if rule.unsourced is None:
                        continue
                    severity, detail = rule.unsourced, detail + UNSOURCED_NOTE
                findings.append(
                    Finding(
                        severity=severity,
                        category=rule.category,
                        title=rule.title,
                        detail=detail,
                        line=node.range().start.line + 1,
                        file=file.path or None,
                        suggestion=rule.fix,
                        source="rules",
                        rule=rule.id,
                    )
                )
        if sources is not None:
            cache.remember(grammar, file.content, sources)
    return findings


def _source_for(text: str, grammar: str) -> str:
    if grammar == "erb":
        from shared.review.static.erb import as_ruby

        return as_ruby(text)
    if grammar == "razor":
        from shared.review.static.razor import as_csharp

        return as_csharp(text)
    return text


def _applies(rule: Rule, text: str) -> bool:
    if rule.requires and not any(needle in text for needle in rule.requires):
        return False
    return not any(needle in text for needle in rule.unless)


def reached_lines(content: str, grammar: str, lines: set[int], statements: tuple[str, ...]) -> set[int]:
    """Of these 1-based lines, those whose statement (the smallest node of a `statements` kind
    around the line, else the outermost call on it) a source reaches within its function: for
    another analyser's sink findings (bandit's), with this family's sources (those the rule scan
    found for the same file, when it still holds them)."""
    from ast_grep_py import SgRoot

    sources = cache.recall(grammar, content) or Sources(SgRoot(content, grammar).root(), family_for(grammar))
    if not sources.positions or not lines:
        return set()
    wanted = sorted(lines)
    smallest: dict[int, Any] = {}
    outer_call: dict[int, Any] = {}
    for kinds, statement in ((statements, True), (("call",), False)):
        for node in sources.root.find_all({"rule": {"any": [{"kind": kind} for kind in kinds]}}):
            span = node.range()
            first, last = span.start.line + 1, span.end.line + 1
            at = bisect.bisect_left(wanted, first)
            while at < len(wanted) and wanted[at] <= last:
                line, at = wanted[at], at + 1
                size = span.end.index - span.start.index
                if statement and (line not in smallest or size < _size(smallest[line])):
                    smallest[line] = node
                elif not statement and (line not in outer_call or size > _size(outer_call[line])):
                    outer_call[line] = node
    return {
        line
        for line in lines
        if (node := smallest.get(line) or outer_call.get(line)) and sources.reach(node, whole=True)
    }


def _size(node: Any) -> int:
    span = node.range()
    return span.end.index - span.start.index
