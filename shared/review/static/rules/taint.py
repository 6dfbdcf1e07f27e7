"""The taint engine: where outside data is in one file (request data, route handlers' parameters,
names bound from either, each scoped to the function that binds it), and whether it reaches a node."""

from __future__ import annotations

import bisect
import re
from typing import Any

from shared.review.static.rules.family import Calls, Family, Handlers, Taint

MAX_TAINTED_NAMES = 2000  # one regex alternation per rule run: keep it a sane size
TAINT_PASSES = 4  # a = req.x; b = f(a); c = g(b): each pass follows one more step


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
        named = names_util(names, self.family.identifiers)
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
        then chains of bindings (b = f(a)), one more walk each, until no name is added; then the
        parameters of the file's own functions that a call passes a source to, and their chains."""
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
        self._follow(taint, seen)
        if self.family.calls is not None and self._passed_to(self.family.calls):
            self._follow(taint, seen)

    def _follow(self, taint: Taint, seen: set[Scope]) -> None:
        """Chains of bindings from the names known so far: one walk of the tree per step."""
        for _ in range(TAINT_PASSES):
            names = self._names()
            if not names or self.count >= MAX_TAINTED_NAMES:
                return
            self.positions = self._positions()  # each use of the names so far, to check a binding's scope
            named = names_util(names, self.family.identifiers)
            widened = {"any": [taint.config["utils"]["from-request"], named, {"has": {**named, "stopBy": "end"}}]}
            config = {**taint.config, "utils": {**taint.config["utils"], "from-request": widened}}
            grew = False
            for binding in self.root.find_all(config):
                grew |= self._bind(binding, taint, seen, checked=True)
            if not grew:
                return  # the positions of this pass are final

    def _passed_to(self, calls: Calls) -> bool:
        """One call deep: a parameter of a function or method of this file is a source in it where a
        call of the file passes it a source (`lookup($db, $_GET['name'])`, `make_backup(params[:file])`).
        Only the sources found so far count, so a value is followed into one call, not down a chain
        of them. Whether a parameter was added."""
        if self._positions_of is None or self._positions_of != self._names():
            self.positions = self._positions()
        if not self.positions:
            return False
        definitions: dict[str, list[tuple[Scope, list[str | None]]]] = {}
        for node in self.root.find_all(calls.functions):
            if (name := node.field("name")) is not None and (parameters := node.field("parameters")) is not None:
                span = node.range()
                positional = [
                    self._parameter_name(item) for item in parameters.children() if item.kind() in calls.parameters
                ]
                definitions.setdefault(name.text(), []).append(((span.start.index, span.end.index), positional))
        if not definitions:
            return False
        # Only calls that start with one of these names (after $this->, self:: or self.): most calls of a
        # file are of other functions, and each one looked at here costs more than ast-grep's regex.
        alternation = "|".join(re.escape(name) for name in sorted(definitions))
        named = {
            **calls.calls,
            "rule": {"all": [calls.calls["rule"], {"regex": rf"^[\w$:.>-]*?\b(?:{alternation})(?:\W|$)"}]},
        }
        grew = False
        for call in self.root.find_all(named):
            callee = next((node for field in calls.callee if (node := call.field(field)) is not None), None)
            arguments = call.field("arguments")
            if callee is None or arguments is None or callee.text() not in definitions:
                continue
            for index, argument in enumerate(_positional(arguments)):
                if not _within(self.positions, argument.range()):
                    continue
                for scope, parameters in definitions[callee.text()]:
                    name = parameters[index] if index < len(parameters) else None
                    if name is not None and name not in self.values.get(scope, ()):
                        self.values.setdefault(scope, set()).add(name)
                        self.count += 1
                        grew = True
        return grew

    def _parameter_name(self, parameter: Any) -> str | None:
        if parameter.kind() in self.family.identifiers:
            return parameter.text()
        named = parameter.find({"rule": {"any": [{"kind": kind} for kind in self.family.identifiers]}})
        return named.text() if named is not None else None

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
            for node in self.root.find_all({"rule": names_util(names, self.family.identifiers)}):
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


# Arguments after which a call's positions no longer match the parameters' (Ruby's key: value and
# *splat, &block; PHP's named arguments are an `argument` holding a `name`).
_NOT_POSITIONAL = {"pair", "splat_argument", "hash_splat_argument", "block_argument"}


def _positional(arguments: Any) -> list[Any]:
    found = []
    for node in arguments.children():
        if not node.is_named() or node.kind() == "comment":
            continue
        first = _first_named(node) if node.kind() == "argument" else None
        if node.kind() in _NOT_POSITIONAL or (first is not None and first.kind() == "name"):
            break
        found.append(node)
    return found


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


def names_util(names: set[str], kinds: tuple[str, ...]) -> dict[str, Any]:
    """Identifiers spelled as one of the names (none: a rule that never matches)."""
    alternation = "|".join(re.escape(name) for name in sorted(names)) or r"\x00"  # no identifier is a NUL
    return {"any": [{"kind": kind} for kind in kinds], "regex": f"^(?:{alternation})$"}


def bound_names(root: Any, config: dict[str, Any], field: str | None, kinds: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for binding in root.find_all(config):
        target = binding.field(field) if field else binding
        if target is None:
            continue
        names |= _target_names(target, kinds, whole=field is None)
        if len(names) >= MAX_TAINTED_NAMES:
            break
    return names
