"""A rule family: one YAML file of rules for a language family, read once per instance, with how
it finds request data (its taint declaration). The file's schema: spec.py."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from coderevai_core.findings import Severity

if TYPE_CHECKING:
    from shared.review.static.rules.spec import PassedTo

RULES_DIR = Path(__file__).parent
# Which rule file covers which grammar (TypeScript is JavaScript with types, as far as these rules go).
RULE_FILES = {
    "python": "python", "javascript": "javascript", "typescript": "javascript", "tsx": "javascript",
    "go": "go", "java": "java", "html": "html", "php": "php", "ruby": "ruby", "erb": "ruby",
    "csharp": "csharp", "razor": "csharp", "kotlin": "kotlin", "rust": "rust",
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
    unsourced: Severity | None  # a sink's severity when no source reaches it (None: not reported)
    sink: bool  # whether the engine checks that a source reaches the match (see the docstring)
    names_bound: frozenset[str] = frozenset()  # the family's `bound_names` utils its config refers to
    whole_function: bool = False  # `reach: function`: a source anywhere in its function reaches it


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


class Calls(NamedTuple):
    """Calls of the file's own functions (`passed_to`): `functions` matches their definitions (the
    name in field `name`, the parameter list in field `parameters`, its positional parameters of
    the kinds `parameters`), `calls` the calls that may reach them, whose callee name is in the
    first of the fields `callee` that the call has."""

    functions: dict[str, Any]
    parameters: frozenset[str]
    calls: dict[str, Any]
    callee: tuple[str, ...]


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
    calls: Calls | None = None  # request data passed to the file's own functions (one call deep)


@cache
def _family(family: str) -> Family:
    import yaml

    from shared.review.static.rules.spec import FamilySpec, reaches

    data = yaml.safe_load((RULES_DIR / f"{family}.yml").read_text(encoding="utf-8"))
    if context := data.get("pattern_context"):
        data = _in_context(data, context)
    spec = FamilySpec.model_validate(data)
    utils = spec.utils
    taint = None
    if names := spec.tainted_names:
        taint = Taint({"rule": names.rule, "utils": utils}, names.name)
    handlers = None
    if routed := spec.route_handlers:
        handlers = Handlers(
            {"rule": routed.rule, "utils": utils},
            {"rule": routed.params, "utils": utils} if routed.params else None,
            {"rule": routed.objects, "utils": utils} if routed.objects else None,
        )
    bound = {util: Taint({"rule": item.rule, "utils": utils}, item.name) for util, item in spec.bound_names.items()}
    rules = []
    for item in spec.rules:
        config = {"rule": item.rule, "utils": {**utils, **item.utils}}
        if item.constraints is not None:
            config["constraints"] = item.constraints
        asks = {"rule": item.rule, "constraints": item.constraints}  # what the rule's own match names
        tainted = reaches(asks, "tainted", config["utils"])
        rules.append(
            Rule(
                item.id,
                item.severity,
                item.category,
                item.title,
                item.why,
                item.fix,
                config,
                frozenset(item.skip),
                item.requires,
                item.unless,
                tainted,
                None if item.unsourced in (None, "none") else item.unsourced,
                item.unsourced is not None or tainted,
                frozenset(util for util in bound if reaches(asks, util, config["utils"])),
                item.reach == "function",
            )
        )
    request_data = {"rule": {"matches": "request-data"}, "utils": utils} if "request-data" in utils else None
    return Family(
        tuple(rules),
        taint,
        handlers,
        frozenset(spec.functions),
        request_data,
        bound,
        spec.identifiers,
        spec.sources_require,
        _calls(spec.passed_to, utils),
    )


def _calls(passed: PassedTo | None, utils: dict[str, Any]) -> Calls | None:
    if passed is None:
        return None
    return Calls(
        {"rule": passed.functions, "utils": utils},
        frozenset(passed.parameters),
        {"rule": passed.calls, "utils": utils},
        passed.callee,
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
