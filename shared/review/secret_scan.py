"""A portable secrets check for every language: private keys, cloud and API tokens, and hard-coded
credentials, found by the token shapes the providers publish.

Hand-written on purpose: these are a dozen anchored patterns over text we already hold in memory;
detect-secrets or gitleaks would add a plugin framework or a Go binary to every function for the
same result. Secrets are never echoed: findings show a short prefix only, and `mask` blanks them
before any code leaves for the model."""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from shared.review.findings import Finding, Severity


class Pattern(NamedTuple):
    kind: str
    severity: Severity
    regex: re.Pattern[str]


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "private key",
        "critical",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
            # The body cannot hold "-----": the search for END stops at the next header, not 20,000 chars on.
            r"(?:(?:[^-]|-(?!----)){0,20000}?-----END [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----)?"
        ),
    ),
    Pattern("AWS access key id", "high", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    Pattern(
        "AWS secret access key",
        "critical",
        re.compile(r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})\b"),
    ),
    Pattern(
        "GitHub token", "critical", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b")
    ),
    Pattern("Google API key", "high", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    Pattern("Slack token", "high", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,250}\b")),
    Pattern("Stripe live key", "critical", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,250}\b")),
    Pattern(
        "OpenAI or Anthropic API key", "high", re.compile(r"\bsk-(?:proj-|ant-[a-z0-9]{2,10}-)?[A-Za-z0-9_\-]{32,250}")
    ),
    Pattern(
        "JSON Web Token",
        "medium",
        re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ),
    Pattern(
        "hard-coded credential",
        "medium",
        re.compile(
            # Not \b: "_" is a word character, and DB_PASSWORD or OPENAI_API_KEY must count.
            r"(?i)(?<![A-Za-z0-9])(?:password|passwd|pwd|secret|api[_\-]?key|access[_\-]?token|auth[_\-]?token|client[_\-]?secret)"
            r"[\"']?\s*[:=]\s*[\"']([^\"'\s]{8,200})[\"']"
        ),
    ),
)

# Values that are obviously not real credentials (docs, templates, tests).
_PLACEHOLDER = re.compile(r"(?i)x{4,}|\*{4,}|your|example|changeme|placeholder|dummy|<[^>]*>|\$\{|\{\{|%\(|^test")


class Leak(NamedTuple):
    kind: str
    severity: Severity
    start: int  # offsets of the secret itself in the text
    end: int
    line: int


def scan(text: str) -> list[Leak]:
    found: list[tuple[int, int, Pattern]] = []  # sorted by start, never overlapping
    for pattern in PATTERNS:
        for match in pattern.regex.finditer(text):
            group = 1 if pattern.regex.groups else 0
            start, end = match.span(group)
            if pattern.kind == "hard-coded credential" and _PLACEHOLDER.search(match.group(group)):
                continue
            # Bisect, not a scan of every earlier leak: text full of secret shapes must stay linear.
            index = bisect.bisect_left(found, start, key=lambda item: item[0])
            if (index > 0 and found[index - 1][1] > start) or (index < len(found) and found[index][0] < end):
                continue  # already reported by a more specific pattern
            found.insert(index, (start, end, pattern))
    leaks, line, counted = [], 1, 0
    for start, end, pattern in found:
        line += text.count("\n", counted, start)
        counted = start
        leaks.append(Leak(pattern.kind, pattern.severity, start, end, line))
    return leaks


def to_finding(leak: Leak, text: str, file: str | None) -> Finding:
    shown = text[leak.start : leak.start + 4]
    return Finding(
        severity=leak.severity,
        category="secrets",
        title=f"{leak.kind[0].upper()}{leak.kind[1:]} in source code",
        detail=(
            f"A {leak.kind} ({shown}…, {leak.end - leak.start} characters) is committed in the code. "
            "Anyone who can read the code can use it."
        ),
        line=leak.line,
        file=file,
        suggestion="Revoke and rotate it now, then load it from the environment or a secret manager.",
        source="secrets",
    )


def mask(text: str, leaks: list[Leak]) -> str:
    """The text with every secret blanked, line by line, so line numbers stay the same."""
    pieces, cursor = [], 0
    for leak in leaks:
        pieces.append(text[cursor : leak.start])
        pieces.append(re.sub(r"[^\n]+", "[REDACTED]", text[leak.start : leak.end]))
        cursor = leak.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def mask_numbered(text: str, leaks: list[Leak]) -> tuple[str, dict[str, str]]:
    """Like `mask`, but each line of each secret gets its own placeholder ([REDACTED-1], ...), and
    what each stood for is returned, so `unmask` can put the secrets back into a rewrite of the
    text even when lines moved or some secrets were dropped."""
    values: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = f"[REDACTED-{len(values) + 1}]"
        values[name] = match.group()
        return name

    pieces, cursor = [], 0
    for leak in leaks:
        pieces.append(text[cursor : leak.start])
        pieces.append(re.sub(r"[^\n]+", placeholder, text[leak.start : leak.end]))
        cursor = leak.end
    pieces.append(text[cursor:])
    return "".join(pieces), values


def unmask(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\[REDACTED-\d+\]", lambda match: values.get(match.group(), match.group()), text)
