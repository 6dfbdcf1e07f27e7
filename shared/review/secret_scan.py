"""A portable secrets check for every language and for the files that hold secrets by nature
(.env, private keys, credentials.json, .npmrc, kube configs...): private keys, provider tokens and
credentials assigned to a secret-sounding name, quoted or not (code, env, YAML, TOML, properties,
compose, JSON). Every match, provider patterns included, goes through one filter that drops
placeholders and low-entropy values (AKIAIOSFODNN7EXAMPLE, xoxp-XXXX, changeme, ${VAR}).

Hand-written on purpose, after measuring detect-secrets' plugins as a library: 440 µs a line
(2.2 s for a 5,000-line file, where this takes milliseconds), it flagged AKIAIOSFODNN7EXAMPLE and
missed unquoted env and YAML values. Secrets are never echoed: findings show their kind, length and
where, not a character of the value, and `mask` blanks them before any code leaves for the model."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from pathlib import PurePosixPath
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
        re.compile(r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    ),
    Pattern(
        "GitHub token", "critical", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b")
    ),
    Pattern("GitLab token", "critical", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,50}\b")),
    Pattern("Google API key", "high", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    Pattern("Google OAuth client secret", "critical", re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]{28}(?![A-Za-z0-9_\-])")),
    Pattern(
        "Slack webhook URL",
        "high",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,200}"),
    ),
    Pattern("Slack token", "high", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,250}\b")),
    Pattern("Slack app token", "high", re.compile(r"\bxapp-\d-[A-Za-z0-9-]{20,250}\b")),
    Pattern(
        "Discord webhook URL",
        "high",
        re.compile(r"https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d{15,25}/[A-Za-z0-9_\-]{40,100}"),
    ),
    Pattern("Stripe live key", "critical", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,250}\b")),
    Pattern("Stripe webhook signing secret", "high", re.compile(r"\bwhsec_[0-9A-Za-z]{24,250}\b")),
    Pattern("SendGrid API key", "critical", re.compile(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b")),
    Pattern("npm token", "critical", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    Pattern("PyPI token", "critical", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300}")),
    Pattern("Hugging Face token", "high", re.compile(r"\bhf_[A-Za-z0-9]{34,40}\b")),
    Pattern(
        "OpenAI or Anthropic API key", "high", re.compile(r"\bsk-(?:proj-|ant-[a-z0-9]{2,10}-)?[A-Za-z0-9_\-]{32,250}")
    ),
    Pattern(
        "password in a connection URL",
        "high",
        re.compile(
            r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql)://[^:/@\s\"']{1,100}:([^@/\s\"']{4,200})@"
        ),
    ),
    Pattern(
        "JSON Web Token",
        "medium",
        re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ),
)

# Literals each pattern's match contains: a substring test (C speed) skips the patterns whose
# literals the text lacks, which is most of them for most code. Patterns not listed always run.
_HINTS: dict[str, tuple[str, ...]] = {
    "private key": ("-----BEGIN",),
    "AWS access key id": ("AKIA", "ASIA"),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "GitLab token": ("glpat-",),
    "Google API key": ("AIza",),
    "Google OAuth client secret": ("GOCSPX-",),
    "Slack webhook URL": ("hooks.slack.com",),
    "Slack token": ("xox",),
    "Slack app token": ("xapp-",),
    "Discord webhook URL": ("/api/webhooks/",),
    "Stripe live key": ("_live_",),
    "Stripe webhook signing secret": ("whsec_",),
    "SendGrid API key": ("SG.",),
    "npm token": ("npm_",),
    "PyPI token": ("pypi-",),
    "Hugging Face token": ("hf_",),
    "OpenAI or Anthropic API key": ("sk-",),
    "password in a connection URL": ("://",),
    "JSON Web Token": ("eyJ",),
}

# A name that says "secret" anywhere in it: DB_PASSWORD, cookieSecret, spring.datasource.password,
# "client_secret", _authToken, api-key... but not the names of things about secrets (a token's URL,
# a password field's label, a key's length). Found from the keyword out, never with a regex that
# scans name characters on both sides of it: on a long run of such characters that goes quadratic.
_KEYWORD = re.compile(  # searched in the lower-cased text: (?i) made this scan 15x slower
    r"pass(?:word|wd|phrase)|pwd(?![a-z])|secret|token|(?:api|access|private|signing|encryption|auth)[_.\-]?key|"
    r"apikey|credential"
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
MAX_NAME = 100
_NOT_A_SECRET_NAME = re.compile(
    r"(?i)(url|uri|endpoint|path|file|dir|name|type|field|label|header|length|len|size|count|min|max|"
    r"prefix|pattern|regex|env|var|ttl|expiry|expires|expiration|timeout|lifetime|format|hash|id|usage|"
    r"placeholder|policy|rotation|version|enabled|required|provider|kind|mode|method|algorithm|alg)$"
)
# After the name: = : := => (or a YAML key), then a quoted value or, in config formats, a bare one.
_ASSIGNED_VALUE = re.compile(
    r"""["']?[ \t]*(?::=|=>|=|:)[ \t]*(?:(?P<q>["'`])(?P<quoted>[^"'`\n]{4,300})(?P=q)|"""
    r"""(?P<bare>[^\s"'`#,;(){}\[\]<>]{4,300}+)(?=[ \t]*(?:$|\#|;|,)))""",
    re.MULTILINE,
)
# Bare values count only where a bare value is data: env, YAML, TOML, properties, compose files, and
# KEY=value lines (shell exports, Dockerfile ENV, .env content pasted into any file).
CONFIG_SUFFIXES = {".env", ".yml", ".yaml", ".toml", ".properties", ".ini", ".cfg", ".conf", ".npmrc",
                   ".pypirc", ".netrc", ".tfvars", ".sh", ".bash", ".zsh", ".txt", ".config"}  # fmt: skip
_ENV_LINE = re.compile(r"^\s*(?:export\s+|ENV\s+|-\s+)?[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)

# Values that are obviously not real credentials (docs, templates, tests).
_PLACEHOLDER = re.compile(
    r"(?i)x{4,}|\*{3,}|\.{3}|(?<![a-z0-9])(your|my|insert|replace|put|enter)[_\-\s]|example|changeme|change[_\-]me|"
    r"placeholder|dummy|sample|redacted|<[^>]*>|\$\{|\{\{|%\(|\$[A-Z_]|^\$|^(test|fake|mock)|"
    r"^(none|null|nil|true|false|undefined|todo|fixme|secret|password|token|pass|pwd)$|"
    r"^process\.env|^os\.(environ|getenv)|^env\("
)
_IDENTIFIER = re.compile(
    r"^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$|^[a-z]+(?:_[a-z]+)+$|^[A-Z]+(?:_[A-Z]+)+$"
)


class Leak(NamedTuple):
    kind: str
    severity: Severity
    start: int  # offsets of the secret itself in the text
    end: int
    line: int


def scan(text: str, path: str = "") -> list[Leak]:
    found: list[tuple[int, int, str, Severity]] = []  # sorted by start, never overlapping
    for pattern in PATTERNS:
        hints = _HINTS.get(pattern.kind)
        if hints and not any(hint in text for hint in hints):
            continue
        for match in pattern.regex.finditer(text):
            group = 1 if pattern.regex.groups else 0
            if pattern.kind == "private key" or plausible(match.group(group)):
                _add(found, *match.span(group), pattern.kind, pattern.severity)
    bare_allowed = is_config(path)
    for name, match in _assignments(text):
        value = match.group("quoted") or match.group("bare")
        if match.group("bare") and not (bare_allowed or _ENV_LINE.match(text, _line_start(text, match.start()))):
            continue
        if _NOT_A_SECRET_NAME.search(name) or not plausible(value, generic=True):
            continue
        group = "quoted" if match.group("quoted") else "bare"
        _add(found, *match.span(group), "hard-coded credential", "high" if bare_allowed else "medium")
    leaks, line, counted = [], 1, 0
    for start, end, kind, severity in found:
        line += text.count("\n", counted, start)
        counted = start
        leaks.append(Leak(kind, severity, start, end, line))
    return leaks


def _assignments(text: str):
    """(name, value match) for each secret-sounding name followed by an assigned value. Each name is
    widened from its keyword over at most MAX_NAME name characters either way, so the work per
    keyword is bounded and the scan stays linear."""
    name_end = -1
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two: offsets would drift
        lowered = "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
    for keyword in _KEYWORD.finditer(lowered):
        if keyword.start() < name_end:
            continue  # a second keyword inside a name already looked at
        start, end = keyword.start(), keyword.end()
        while start > 0 and keyword.start() - start < MAX_NAME and text[start - 1] in _NAME_CHARS:
            start -= 1
        while end < len(text) and end - keyword.end() < MAX_NAME and text[end] in _NAME_CHARS:
            end += 1
        name_end = end
        if start > 0 and text[start - 1] in _NAME_CHARS:
            continue  # longer than any real name: not one
        if match := _ASSIGNED_VALUE.match(text, end):
            yield text[start:end], match


def plausible(value: str, *, generic: bool = False) -> bool:
    """Whether a matched value can be a real secret: no placeholder, enough variety of characters.
    A named credential (`generic`) may be a human password, so it needs less entropy than a token,
    but it must not read as a reference to something else (a dotted name, a snake_case variable)."""
    if _PLACEHOLDER.search(value):
        return False
    if generic and (_IDENTIFIER.match(value) or value.isdigit() or re.match(r"(?i)^https?://[^@]*$", value)):
        return False
    return entropy(value) >= (2.5 if generic else 3.0) and len(set(value)) >= (5 if generic else 8)


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def is_config(path: str) -> bool:
    name = PurePosixPath(path.split("#", 1)[0]).name.lower()  # a part's label: "deploy.yml#L1-L90"
    suffix = PurePosixPath(name).suffix
    return (
        suffix in CONFIG_SUFFIXES
        or name.startswith(".env")
        or name in ("dockerfile", "docker-compose.yml", "compose.yml", "config", "kubeconfig", "credentials")
    )


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _add(found: list, start: int, end: int, kind: str, severity: Severity) -> None:
    # Bisect, not a scan of every earlier leak: text full of secret shapes must stay linear.
    index = bisect.bisect_left(found, start, key=lambda item: item[0])
    if (index > 0 and found[index - 1][1] > start) or (index < len(found) and found[index][0] < end):
        return  # already reported by a more specific pattern
    found.insert(index, (start, end, kind, severity))


def findings(text: str, path: str = "") -> list[Finding]:
    return [to_finding(leak, text, path or None) for leak in scan(text, path)]


def secret_file_findings(path: str, content: str | None) -> list[Finding]:
    """What a secret-bearing file (.env, id_rsa, credentials.json, a key store...) holds, each at
    critical: the file exists to carry secrets, so a match in it is one. A binary key store cannot be
    scanned, so its presence is the finding."""
    if content is None:
        return [
            Finding(
                severity="critical",
                category="secrets",
                title="Key store committed to the repository",
                detail=f"{PurePosixPath(path).name} is a binary key store or certificate bundle; it was not read.",
                file=path,
                suggestion="Remove it from the repository and its history, and rotate the keys it holds.",
                source="secrets",
                rule="key store",
            )
        ]
    leaks = scan(content, path or ".env")  # a secret-bearing file is data: bare values count
    return [
        to_finding(leak, content, path).model_copy(
            update={
                "severity": "critical",
                "title": f"{leak.kind[0].upper()}{leak.kind[1:]} in a committed secrets file",
            }
        )
        for leak in leaks
    ]


def to_finding(leak: Leak, text: str, file: str | None) -> Finding:
    return Finding(
        severity=leak.severity,
        category="secrets",
        title=f"{leak.kind[0].upper()}{leak.kind[1:]} in source code",
        detail=(
            f"A {leak.kind} ({leak.end - leak.start} characters, masked here) is committed in the code. "
            "Anyone who can read the code can use it."
        ),
        line=leak.line,
        file=file,
        suggestion="Revoke and rotate it now, then load it from the environment or a secret manager.",
        source="secrets",
        rule=leak.kind,
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
