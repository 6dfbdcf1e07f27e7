"""What a rule file may hold, validated when it is read: a misspelt key or a severity the findings
do not know fails the load (and so the tests) instead of silently dropping a rule's condition.
The ast-grep parts (`rule`, `utils`, `constraints`) stay ast-grep's own dictionaries: ast-grep
compiles and checks them. What each field means is in the package's docstring."""

from __future__ import annotations

from typing import Any, Literal

from coderevai_core.findings import Severity
from pydantic import BaseModel, ConfigDict

Config = dict[str, Any]  # an ast-grep rule, util or constraint, as the YAML writes it


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Binding(_Spec):
    """Names bound to something: `rule` matches the binding, `name` is the field holding the bound
    name(s) (left out: the binding itself is the name, or holds it among its children)."""

    rule: Config
    name: str | None = None


class RouteHandlers(_Spec):
    """Functions a framework routes to (`rule`); `params` selects the parameters that are values from
    outside, `objects` the request objects (sources where one of their members is read)."""

    rule: Config
    params: Config | None = None
    objects: Config | None = None


class PassedTo(_Spec):
    """Request data passed to a function or method of the same file: the parameter receiving it is
    a source in that function (one call deep). `functions` matches the definitions (name in their
    field `name`, parameter list in `parameters`; `parameters` are the kinds of its positional
    parameters), `calls` the calls that may reach one (callee name in the first of the `callee`
    fields the call has; arguments in `arguments`)."""

    functions: Config
    parameters: tuple[str, ...]
    calls: Config
    callee: tuple[str, ...]


class PatternContext(_Spec):
    """A language whose calls are no valid file on their own (Go): each call pattern is parsed inside
    `source` (at `$PATTERN`) and `selector` picks it out again."""

    source: str
    selector: str


class RuleSpec(_Spec):
    id: str
    severity: Severity
    title: str
    why: str
    fix: str | None = None
    category: str = "security"
    rule: Config
    utils: dict[str, Config] = {}
    constraints: Config | None = None
    skip: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    unsourced: Literal["low", "info", "none"] | None = None
    reach: Literal["function"] | None = None


class FamilySpec(_Spec):
    utils: dict[str, Config] = {}
    pattern_context: PatternContext | None = None
    functions: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ("identifier",)
    tainted_names: Binding | None = None
    route_handlers: RouteHandlers | None = None
    bound_names: dict[str, Binding] = {}
    sources_require: tuple[str, ...] = ()
    passed_to: PassedTo | None = None
    rules: tuple[RuleSpec, ...]


def references(node: Any) -> set[str]:
    """The utils a rule, util or constraint names (`matches: NAME`), at any depth."""
    if isinstance(node, list):
        return set().union(*(references(item) for item in node))
    if not isinstance(node, dict):
        return set()
    found = {node["matches"]} if isinstance(node.get("matches"), str) else set()
    return found.union(*(references(value) for value in node.values()))


def reaches(node: Any, target: str, utils: dict[str, Config]) -> bool:
    """Whether a rule asks for the util `target`, itself or through the utils it names."""
    seen: set[str] = set()
    pending = references(node)
    while pending:
        name = pending.pop()
        if name == target:
            return True
        if name not in seen and name in utils:
            seen.add(name)
            pending |= references(utils[name])
    return False
