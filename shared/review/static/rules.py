"""Our own structural rules for every common language, run by ast-grep (its Python bindings: a
Rust engine with tree-sitter grammars, loaded in-process). The rules are data: one YAML file per
language family under rules/, each rule with a positive and a negative case in the tests.

Why ast-grep and not semgrep: semgrep's open-source engine is a separate OCaml binary driven by a
Python CLI (1.7-2.2 s per call here, 58 MB wheel, 330 MB installed, LGPL-2.1); ast-grep-py is one
MIT-licensed extension module (5.7 MB wheel) that parses and matches in milliseconds in-process.

Sources and sinks (what a rule file may declare besides `utils` and `rules`):
- `utils.request-data`: nodes that are outside data wherever they appear (`request.args`, `req.body`,
  `r.FormValue(...)`, `getParameter(...)`, `input()`, `sys.argv`, `os.Args`...); `utils.from-request`:
  request data or a node containing it.
- `functions: [kinds]`: the node kinds that open a function scope (functions, methods, lambdas);
  `identifiers: [kinds]` the kinds that name a variable (default `identifier`).
- `tainted_names: {rule, name}`: a binding from request data (the rule should use `matches:
  from-request`); `name` is the field holding the bound name(s) (left out: the binding holds them
  among its children). The name is a source in the
  function that binds it (and functions nested in it), never in another one. Bindings are collected
  once per file and keyed by their enclosing function's range (a per-use search of the enclosing
  function went quadratic); chains (`a = req.x; b = f(a)`) are followed in a few more passes, each
  widening `from-request` to the names known so far.
- `route_handlers: {rule, params, objects}`: `rule` matches a function node a framework routes to;
  `params` (a rule, run inside that function) selects parameter identifiers whose values are
  sources (Flask view arguments, Spring `@RequestParam`, `main`'s `args`); `objects` selects request
  objects (`r *http.Request`, `HttpServletRequest request`), a source only where a field or method
  of theirs is read (`r.Form`), not when passed whole (`http.Redirect(w, r, ...)`).
- `bound_names: {util: {rule, name}}`: names the file binds to some shape (an SQL string built with
  `+`), offered to the rules as util `util` (file-wide, a pattern's pre-condition).
  In `tainted_names` and `bound_names`, `name` may be left out: the binding itself is the name, or
  holds it among its children (a Kotlin `variable_declaration`, a Rust `let`'s pattern).
- `sources_require: [text]`: a file holding none of these texts has no request data, so the rules
  whose pattern asks for it (`tainted`) are not run on it.
- ERB templates have no grammar here: they are rewritten into the Ruby they run (`erb.py`,
  `PARSED_AS`) and checked by the Ruby rules; Razor views (`.cshtml`, `.razor`) likewise into the
  C# they run (`razor.py`), checked by the C# rules.
- Rule level: `severity` is for a sink that outside data reaches; `unsourced: low | info | none`
  makes the rule a sink: its pattern matches without a taint condition, and the engine checks that
  a source lies in the sink's arguments (the `arguments` field, else an assignment's `right`, else
  the whole match) within the enclosing function. Unreached, the finding is reported at the
  `unsourced` severity and says so (`none`: not reported). A rule without `unsourced` whose pattern
  uses the `tainted` util (request data, or a tainted name anywhere in the file) is checked the same
  way, with `none`. Other rules (configuration: debug on, TLS off) report what their pattern matches.
- `reach: function` (with `unsourced`): the match is a hazard whose data arrives later in the same
  function (a BinaryFormatter built here deserialises a stream two lines down; an XML factory made
  here parses a document later): it is reached when a source lies anywhere in its outermost
  enclosing function, not only in its own arguments."""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from coderevai_core.findings import Finding, Severity

from shared.languages import language_of
from shared.review.outcome import SourceFile

log = logging.getLogger("coderevai.review.rules")

RULES_DIR = Path(__file__).with_name("rules")
# File suffix -> the ast-grep grammar that parses it.
GRAMMARS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".java": "java", ".html": "html", ".htm": "html", ".jinja": "html", ".jinja2": "html",
    ".j2": "html", ".vue": "html", ".ejs": "html", ".hbs": "html", ".handlebars": "html",
    ".php": "php", ".phtml": "php", ".rb": "ruby", ".rake": "ruby", ".erb": "erb", ".cs": "csharp",
    ".kt": "kotlin", ".kts": "kotlin", ".rs": "rust", ".cshtml": "razor", ".razor": "razor",
}  # fmt: skip
# A snippet's language hint -> its grammar, when the snippet has no file name.
LANGUAGE_HINTS = {
    "python": "python", "py": "python", "python3": "python", "javascript": "javascript", "js": "javascript",
    "node": "javascript", "jsx": "javascript", "typescript": "typescript", "ts": "typescript", "tsx": "tsx",
    "go": "go", "golang": "go", "java": "java", "html": "html", "jinja": "html", "jinja2": "html",
    "django": "html", "vue": "html", "php": "php", "ruby": "ruby", "rb": "ruby", "rails": "ruby",
    "erb": "erb", "csharp": "csharp", "c#": "csharp", "cs": "csharp", "kotlin": "kotlin", "kt": "kotlin",
    "rust": "rust", "rs": "rust", "razor": "razor", "cshtml": "razor", "blazor": "razor",
}  # fmt: skip
# Which rule file covers which grammar (TypeScript is JavaScript with types, as far as these rules go).
RULE_FILES = {
    "python": "python", "javascript": "javascript", "typescript": "javascript", "tsx": "javascript",
    "go": "go", "java": "java", "html": "html", "php": "php", "ruby": "ruby", "erb": "ruby",
    "csharp": "csharp", "razor": "csharp", "kotlin": "kotlin", "rust": "rust",
}  # fmt: skip
# Grammars ast-grep lacks, parsed as another after a rewrite: an ERB template as the Ruby it runs,
# a Razor view as the C# it runs.
PARSED_AS = {"erb": "ruby", "razor": "csharp"}


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
    unsourced: Severity | None  # a sink's severity when no source reaches it (None: not reported)
    sink: bool  # whether the engine checks that a source reaches the match (see the docstring)
    names_bound: frozenset[str] = frozenset()  # the family's `bound_names` utils its config refers to
    whole_function: bool = False  # `reach: function`: a source anywhere in its function reaches it


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
    """How a rule family finds the local names bound to something: `config` matches the binding
    (an assignment, a declaration), `field` holds the bound name(s) (none: the binding itself is
    the name, or holds it among its children)."""

    config: dict[str, Any]
    field: str | None


class Handlers(NamedTuple):
    """Functions a framework routes to: `config` matches them; `params` selects the parameters
    that are values from outside, `objects` the request objects (sources where a member is read)."""

    config: dict[str, Any]
    params: dict[str, Any] | None
    objects: dict[str, Any] | None


class Family(NamedTuple):
    rules: tuple[Rule, ...]
    taint: Taint | None
    handlers: Handlers | None
    functions: frozenset[str]
    request_data: dict[str, Any] | None  # the `request-data` util, with the family's utils
    bound: dict[str, Taint]  # `bound_names`: util name -> how its names are bound
    identifiers: tuple[str, ...]  # the node kinds that name a variable
    # Text one of which a file must hold to contain request data at all (`sources_require:`): in a
    # file with none, the rules that ask for request data cannot match and are not run.
    sources_require: tuple[str, ...] = ()


MAX_TAINTED_NAMES = 2000  # one regex alternation per rule run: keep it a sane size
TAINT_PASSES = 4  # a = req.x; b = f(a); c = g(b): each pass follows one more step
UNSOURCED_NOTE = " No request data or route parameter reaches it in this function: check where this value comes from."


@cache
def _family(family: str) -> Family:
    import yaml

    data = yaml.safe_load((RULES_DIR / f"{family}.yml").read_text(encoding="utf-8"))
    if context := data.get("pattern_context"):
        data = _in_context(data, context)
    utils = data.get("utils") or {}
    taint = None
    if names := data.get("tainted_names"):
        taint = Taint({"rule": names["rule"], "utils": utils}, names.get("name"))
    handlers = None
    if routed := data.get("route_handlers"):
        handlers = Handlers(
            {"rule": routed["rule"], "utils": utils},
            {"rule": routed["params"], "utils": utils} if routed.get("params") else None,
            {"rule": routed["objects"], "utils": utils} if routed.get("objects") else None,
        )
    bound = {
        util: Taint({"rule": item["rule"], "utils": utils}, item.get("name"))
        for util, item in (data.get("bound_names") or {}).items()
    }
    rules = []
    for item in data["rules"]:
        config = {"rule": item["rule"], "utils": {**utils, **(item.get("utils") or {})}}
        if "constraints" in item:
            config["constraints"] = item["constraints"]
        tainted = "tainted" in repr(item["rule"]) or "tainted" in repr(item.get("constraints"))
        unsourced = item.get("unsourced")
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
                tainted,
                None if unsourced in (None, "none") else unsourced,
                "unsourced" in item or tainted,
                frozenset(util for util in bound if util in repr(config)),  # once: repr takes milliseconds
                item.get("reach") == "function",
            )
        )
    request_data = {"rule": {"matches": "request-data"}, "utils": utils} if "request-data" in utils else None
    identifiers = tuple(data.get("identifiers") or ("identifier",))
    return Family(
        tuple(rules),
        taint,
        handlers,
        frozenset(data.get("functions") or ()),
        request_data,
        bound,
        identifiers,
        tuple(data.get("sources_require") or ()),
    )


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
                utils[util] = _names_util(
                    _bound_names(root, binding.config, binding.field, family.identifiers), family.identifiers
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
            _remember(grammar, file.content, sources)
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

    sources = _recall(grammar, content) or Sources(SgRoot(content, grammar).root(), family_for(grammar))
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


# The sources the last rule scans found, for reached_lines on the same files (bandit's findings
# come after the scan): finding them again cost as much as the scan of a large file.
_RECENT_SOURCES: OrderedDict[tuple[str, str], Sources] = OrderedDict()
RECENT_SOURCES_KEPT = 8
_recent_lock = threading.Lock()


def _remember(grammar: str, content: str, sources: Sources) -> None:
    with _recent_lock:
        _RECENT_SOURCES[(grammar, content)] = sources
        while len(_RECENT_SOURCES) > RECENT_SOURCES_KEPT:
            _RECENT_SOURCES.popitem(last=False)


def _recall(grammar: str, content: str) -> Sources | None:
    with _recent_lock:
        return _RECENT_SOURCES.pop((grammar, content), None)


def _size(node: Any) -> int:
    span = node.range()
    return span.end.index - span.start.index


Scope = tuple[int, int]  # a function's (start, end) offsets; the file's own for module level


class Sources:
    """Where outside data is in one file: request data, route handler parameters, and names bound
    from either, each name scoped to the function that binds it."""

    def __init__(self, root: Any, family: Family) -> None:
        self.root = root
        self.family = family
        end = root.range().end.index
        self.file_scope: Scope = (0, end)
        self.values: dict[Scope, set[str]] = {}  # names that hold outside data, per function
        self.objects: dict[Scope, set[str]] = {}  # request objects, per function
        self.count = 0  # names bound so far (at most MAX_TAINTED_NAMES)
        self._request_positions: list[Scope] | None = None  # request data's spans, found once
        self.positions: list[Scope] = []  # sorted (start, end) of every source in the file
        self._positions_of: set[str] | None = None  # the names self.positions were found for
        self._collect()
        if self._positions_of != self._names():  # else the last pass's positions are final
            self.positions = self._positions()

    def reach(self, node: Any, whole: bool = False, function: bool = False) -> bool:
        """Whether a source lies in the sink's arguments (else an assignment's right side, else the
        match; `whole`: anywhere in the node; `function`: anywhere in its outermost enclosing
        function, else in the node)."""
        if function:
            outer = None
            for ancestor in node.ancestors():
                if ancestor.kind() in self.family.functions:
                    outer = ancestor
            if outer is not None:
                return _within(self.positions, outer.range())
        region = node if whole else node.field("arguments") or node.field("right") or node
        return _within(self.positions, region.range())

    def tainted_util(self) -> dict[str, Any]:
        """The `tainted` util for a rule's pattern: request data, or a tainted name anywhere in the
        file (the engine then checks the scope of what the pattern matched)."""
        if not (names := self._names()):
            return {"matches": "from-request"}
        named = _names_util(names, self.family.identifiers)
        return {"any": [{"matches": "from-request"}, named, {"has": {**named, "stopBy": "end"}}]}

    def _names(self) -> set[str]:
        return set().union(*self.values.values(), *self.objects.values())

    def _scope_of(self, node: Any) -> Scope:
        for ancestor in node.ancestors():
            if ancestor.kind() in self.family.functions:
                span = ancestor.range()
                return (span.start.index, span.end.index)
        return self.file_scope

    def _scopes(self, node: Any) -> list[Scope]:
        spans = [ancestor.range() for ancestor in node.ancestors() if ancestor.kind() in self.family.functions]
        return [(span.start.index, span.end.index) for span in spans] + [self.file_scope]

    def _collect(self) -> None:
        """Route handlers' parameters and the bindings from request data, in one walk of the tree;
        then chains of bindings (b = f(a)), one more walk each, until no name is added."""
        handlers, taint = self.family.handlers, self.family.taint
        configs = [config for config in (handlers and handlers.config, taint and taint.config) if config]
        if not configs:
            return
        seen: set[Scope] = set()
        either = {"rule": {"any": [config["rule"] for config in configs]}, "utils": configs[0]["utils"]}
        routed: set[Scope] = set()
        for node in self.root.find_all(either):
            if handlers and node.kind() in self.family.functions:
                span = node.range()
                routed.add((span.start.index, span.end.index))
            elif taint:
                self._bind(node, taint, seen, checked=False)
        if routed:
            self._parameters(routed, handlers)
        if taint is None:
            return
        for _ in range(TAINT_PASSES):
            names = self._names()
            if not names or self.count >= MAX_TAINTED_NAMES:
                return
            self.positions = self._positions()  # each use of the names so far, to check a binding's scope
            named = _names_util(names, self.family.identifiers)
            widened = {"any": [taint.config["utils"]["from-request"], named, {"has": {**named, "stopBy": "end"}}]}
            config = {**taint.config, "utils": {**taint.config["utils"], "from-request": widened}}
            grew = False
            for binding in self.root.find_all(config):
                grew |= self._bind(binding, taint, seen, checked=True)
            if not grew:
                return  # the positions of this pass are final

    def _parameters(self, routed: set[Scope], handlers: Handlers) -> None:
        """The outside values and request objects among the parameters of these route handlers: one
        walk of the tree per kind (a walk per handler compiled the rule again for each of them)."""
        for config, into in ((handlers.params, self.values), (handlers.objects, self.objects)):
            if config is None:
                continue
            for parameter in self.root.find_all(config):
                if (scope := self._scope_of(parameter)) in routed:  # not a nested function's parameter
                    into.setdefault(scope, set()).add(parameter.text())

    def _bind(self, binding: Any, taint: Taint, seen: set[Scope], checked: bool) -> bool:
        """Record the names a binding binds from request data; whether any is new to its function.
        `checked`: the binding may hold a name of another function: it counts only if a source
        (request data, or a name of its own function) lies in it, outside the bound name itself."""
        span = binding.range()
        key = (span.start.index, span.end.index)
        target = binding.field(taint.field) if taint.field else binding
        if key in seen or target is None or self.count >= MAX_TAINTED_NAMES:
            return False
        if checked and not _within(self.positions, span, skip=target.range()):
            return False  # a name of the same spelling, bound in another function
        seen.add(key)
        bound = _target_names(target, self.family.identifiers, whole=taint.field is None)
        scope = self._scope_of(binding)
        self.count += len(bound)
        if not bound - self.values.get(scope, set()):
            return False
        self.values.setdefault(scope, set()).update(bound)
        return True

    def _positions(self) -> list[Scope]:
        """Every source's span: request data, and each use of a name in a function where it holds
        outside data (a request object only where one of its members is read)."""
        if self._request_positions is None:
            self._request_positions = []
            if self.family.request_data is not None:
                for node in self.root.find_all(self.family.request_data):
                    span = node.range()
                    self._request_positions.append((span.start.index, span.end.index))
        found = list(self._request_positions)
        self._positions_of = names = self._names()
        if names:
            for node in self.root.find_all({"rule": _names_util(names, self.family.identifiers)}):
                if self._is_source(node):
                    span = node.range()
                    found.append((span.start.index, span.end.index))
        return sorted(found)

    def _is_source(self, node: Any) -> bool:
        name, parent = node.text(), node.parent()
        if parent is not None and not _is_reference(node, parent):
            return False
        scopes = self._scopes(node)
        if any(name in self.values.get(scope, ()) for scope in scopes):
            return True
        member_read = parent is not None and parent.kind() in MEMBER_KINDS and _first_named(parent) == node
        if not member_read or CONTEXT_MEMBER.match(parent.text()[len(name) :]):
            return False
        return any(name in self.objects.get(scope, ()) for scope in scopes)


# Nodes whose first child is an object and whose other identifiers name its members or keywords.
MEMBER_KINDS = {"attribute", "member_expression", "selector_expression", "field_access", "method_invocation",
                "subscript", "subscript_expression", "index_expression"}  # fmt: skip
# A request object's context (r.Context(), c.Request.Context()) carries deadlines, not the sender's data.
CONTEXT_MEMBER = re.compile(r"^\s*\.\s*(Request\s*\.\s*)?(Context|context|ctx)\b")
_NOT_VALUES = {"attribute", "field_access", "method_invocation"}  # their later identifiers are member names


def _is_reference(node: Any, parent: Any) -> bool:
    """Whether an identifier reads a variable, not a member name (`x.data`) or a keyword (`f(data=1)`)."""
    kind = parent.kind()
    if kind in _NOT_VALUES:
        return _first_named(parent) == node
    if kind in ("keyword_argument", "pair"):
        return _first_named(parent) != node
    return True


def _within(positions: list[Scope], span: Any, skip: Any = None) -> bool:
    """Whether a source position lies inside the node's span (and outside `skip`, a binding's target)."""
    start, end = span.start.index, span.end.index
    for at in range(bisect.bisect_left(positions, (start, -1)), len(positions)):
        position = positions[at]
        if position[0] >= end:
            return False
        if position[1] <= end and not (skip is not None and skip.start.index <= position[0] < skip.end.index):
            return True
    return False


def _first_named(node: Any) -> Any:
    return next((child for child in node.children() if child.is_named()), None)


# Targets that bind several names: a, b = ...; const { a, b } = ...; x, y := ...
_DESTRUCTURING = {"pattern_list", "tuple_pattern", "list_pattern", "expression_list", "object_pattern", "array_pattern"}


def _target_names(target: Any, kinds: tuple[str, ...], whole: bool = False) -> set[str]:
    """The name a binding binds, or each name of a tuple, list or object pattern; never the parts of
    an attribute or a subscript (self.x = ... or d[KEY] = ... binds neither `self` nor `KEY`).
    `whole`: the target is the binding itself, which holds its names among its children."""
    if target.kind() in kinds:
        return {target.text()}
    if whole or target.kind() in _DESTRUCTURING:
        return {node.text() for node in target.children() if node.kind() in kinds}
    return set()


def _names_util(names: set[str], kinds: tuple[str, ...]) -> dict[str, Any]:
    """Identifiers spelled as one of the names (none: a rule that never matches)."""
    alternation = "|".join(re.escape(name) for name in sorted(names)) or r"\x00"  # no identifier is a NUL
    return {"any": [{"kind": kind} for kind in kinds], "regex": f"^(?:{alternation})$"}


def _bound_names(root: Any, config: dict[str, Any], field: str | None, kinds: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for binding in root.find_all(config):
        target = binding.field(field) if field else binding
        if target is None:
            continue
        names |= _target_names(target, kinds, whole=field is None)
        if len(names) >= MAX_TAINTED_NAMES:
            break
    return names
