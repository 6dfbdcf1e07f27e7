"""The rule files' schema (shared/review/static/rules/spec.py): a misspelt key or an unknown level
fails the load, and whether a rule asks for request data is read from the utils it names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.review.static.rules.spec import FamilySpec, reaches

RULE = {"id": "x-sink", "severity": "high", "title": "t", "why": "w", "rule": {"kind": "call"}}


def test_a_rule_file_of_the_schema_loads():
    spec = FamilySpec.model_validate({"utils": {"u": {"kind": "identifier"}}, "rules": [{**RULE, "unsourced": "low"}]})
    assert spec.rules[0].unsourced == "low" and spec.identifiers == ("identifier",)


@pytest.mark.parametrize(
    "rule",
    [{**RULE, "unsorced": "low"}, {**RULE, "severity": "severe"}, {**RULE, "unsourced": "medium"},
     {**RULE, "reach": "file"}, {key: value for key, value in RULE.items() if key != "why"}],
    ids=["misspelt key", "unknown severity", "unsourced above low", "unknown reach", "no why"],
)  # fmt: skip
def test_a_rule_outside_the_schema_fails_the_load(rule):
    with pytest.raises(ValidationError):
        FamilySpec.model_validate({"rules": [rule]})


def test_a_family_key_outside_the_schema_fails_the_load():
    with pytest.raises(ValidationError):
        FamilySpec.model_validate({"rules": [RULE], "tainted_name": {"rule": {"kind": "assignment"}}})


def test_a_rule_asks_for_request_data_through_the_utils_it_names():
    utils = {"carries": {"has": {"matches": "raw", "stopBy": "end"}}, "raw": {"all": [{"matches": "tainted"}]},
             "loop": {"matches": "loop"}}  # fmt: skip
    assert reaches({"has": {"matches": "carries"}}, "tainted", utils)
    assert not reaches({"regex": "tainted", "has": {"matches": "loop"}}, "tainted", utils)  # a text, not a util
