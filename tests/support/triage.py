"""A fake model's triage of the static findings: the candidates a review sent it, and an answer that
gives them verdicts."""

from __future__ import annotations

import json
import re

from tests.fakes.gemini import generation
from tests.fakes.server import Seen

CANDIDATES = re.compile(r"<static_findings>\n(.*?)\n</static_findings>", re.S)


def sent_candidates(seen: Seen) -> list[dict]:
    text = "".join(part["text"] for content in seen.json()["contents"] for part in content["parts"])
    match = CANDIDATES.search(text)
    return json.loads(match.group(1)) if match else []


def triaging(decide):
    """A fake model that reads the candidates it was sent and answers `decide(candidates)` as verdicts."""

    def answer(seen: Seen):
        return generation({"feedback": "## Review", "findings": [], "verdicts": decide(sent_candidates(seen))})

    return answer
