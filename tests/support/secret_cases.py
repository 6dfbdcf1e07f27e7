"""The labelled secret cases (tests/fixtures/secrets/cases.yml), with their random fillers filled.

Secret-shaped values are generated here rather than stored, so the repository holds none: a seeded
generator per case keeps every run on the same values."""

from __future__ import annotations

import random
import re
import string
import uuid
from pathlib import Path
from typing import NamedTuple

import yaml

CASES = Path(__file__).parent.parent / "fixtures" / "secrets" / "cases.yml"
ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "upper": string.ascii_uppercase + string.digits,
    "lower": string.ascii_lowercase + string.digits,
    "hex": "0123456789abcdef",
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "-_",
    "digits": string.digits,
    "pass": string.ascii_letters + string.digits + "!%^*-_+=~",
}
_FILLER = re.compile(r"\{(?P<kind>[a-z0-9]+)(?::(?P<size>\d+))?\}")


class Case(NamedTuple):
    label: str  # "secret" or "clean"
    kind: str  # the case class, e.g. "stripe-live-key", "placeholder"
    path: str
    text: str
    severity: str | None = None  # the severity a secret must be reported at, when the case says


def load() -> list[Case]:
    data = yaml.safe_load(CASES.read_text())
    cases = []
    for label, kinds in data.items():
        for kind, entries in kinds.items():
            for number, entry in enumerate(entries):
                rng = random.Random(f"{label}/{kind}/{number}")
                cases.append(Case(label, kind, entry["path"], fill(entry["text"], rng), entry.get("severity")))
    return cases


def fill(text: str, rng: random.Random) -> str:
    def one(match: re.Match[str]) -> str:
        kind, size = match["kind"], int(match["size"] or 0)
        if kind == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if kind not in ALPHABETS or not size:
            return match.group()  # a literal brace, e.g. a template's {{ name }}
        return "".join(rng.choice(ALPHABETS[kind]) for _ in range(size))

    return _FILLER.sub(one, text)


def our_findings(case: Case) -> list:
    """What a repository review reports for the case's file: a secret-bearing file's content as
    data, any other file through the static pass's secrets check."""
    from coderevai_core import secret_scan
    from coderevai_core.selection import secret_kind

    if secret_kind(case.path):
        return secret_scan.secret_file_findings(case.path, case.text)
    return secret_scan.findings(case.text, case.path)
