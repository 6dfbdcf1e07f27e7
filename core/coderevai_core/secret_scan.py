"""A portable secrets check for every language and for the files that hold secrets by nature
(.env, private keys, credentials.json, .npmrc, kube configs...): private keys, provider tokens and
credentials assigned to a secret-sounding name, quoted or not (code, env, YAML, TOML, properties,
compose, JSON).

Provider patterns (AWS, GitHub, Stripe live, Slack, private keys...) count wherever they are found.
A generic credential (a secret-sounding name, a password in a URL, a JWT) counts only in code and
configuration, not in documentation (.md, .rst, .txt, docstrings, doc comments), and only when its
value could be one (`secret_values.credible`). Under test and fixture trees a real-looking key is reported at
`info`, as a test fixture. Everything `scan` finds is masked before code leaves for the model,
documentation included; `findings` reports what counts.

Hand-written on purpose, after measuring detect-secrets 1.5 as a library on the same labelled
cases and package sources (benchmarks/precision.py, docs/reviews.md#precision): it found 71% of the
labelled secrets against our 100%, raised 34 false alarms on 106 look-alikes against our 0, took
~60x our time a line, and costs ~1 s of imports. Secrets are never echoed: findings show their
kind, length and where, not a character of the value, and `mask` blanks them before any code
leaves for the model."""

from __future__ import annotations

import bisect
import re
from pathlib import PurePosixPath
from typing import Literal, NamedTuple

from coderevai_core.findings import Finding, Severity
from coderevai_core.lazy_regex import LazyRegex
from coderevai_core.secret_values import credible, plausible


class Pattern(NamedTuple):
    kind: str
    severity: Severity
    regex: LazyRegex  # compiled on first use: `scan` runs a pattern only where its hint is in the text


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "private key",
        "critical",
        LazyRegex(
            r"-----BEGIN [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
            # The body cannot hold "-----": the search for END stops at the next header, not 20,000 chars on.
            r"(?:(?:[^-]|-(?!----)){0,20000}?-----END [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----)?"
        ),
    ),
    Pattern("AWS access key id", "high", LazyRegex(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    Pattern(
        "AWS secret access key",
        "critical",
        LazyRegex(r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    ),
    Pattern(
        "GitHub token", "critical", LazyRegex(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b")
    ),
    Pattern("GitLab token", "critical", LazyRegex(r"\bglpat-[A-Za-z0-9_\-]{20,50}\b")),
    Pattern("Google API key", "high", LazyRegex(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    Pattern("Google OAuth client secret", "critical", LazyRegex(r"\bGOCSPX-[A-Za-z0-9_\-]{28}(?![A-Za-z0-9_\-])")),
    Pattern(
        "Slack webhook URL",
        "high",
        LazyRegex(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,200}"),
    ),
    Pattern("Slack token", "high", LazyRegex(r"\bxox[abposre]-[A-Za-z0-9-]{10,250}\b")),
    Pattern("Slack app token", "high", LazyRegex(r"\bxapp-\d-[A-Za-z0-9-]{20,250}\b")),
    Pattern(
        "Discord webhook URL",
        "high",
        LazyRegex(r"https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d{15,25}/[A-Za-z0-9_\-]{40,100}"),
    ),
    Pattern("Stripe live key", "critical", LazyRegex(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,250}\b")),
    Pattern("Stripe webhook signing secret", "high", LazyRegex(r"\bwhsec_[0-9A-Za-z]{24,250}\b")),
    Pattern("SendGrid API key", "critical", LazyRegex(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b")),
    Pattern("npm token", "critical", LazyRegex(r"\bnpm_[A-Za-z0-9]{36}\b")),
    Pattern("PyPI token", "critical", LazyRegex(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300}")),
    Pattern("Hugging Face token", "high", LazyRegex(r"\bhf_[A-Za-z0-9]{34,40}\b")),
    Pattern("Shopify access token", "critical", LazyRegex(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    Pattern("DigitalOcean token", "critical", LazyRegex(r"\bdo[opr]_v1_[a-f0-9]{64}\b")),
    Pattern("HashiCorp Vault token", "critical", LazyRegex(r"\bhv[sb]\.[A-Za-z0-9_\-]{24,200}\b")),
    Pattern(
        "Doppler token",
        "critical",
        LazyRegex(r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{1,40}\.)?[A-Za-z0-9]{40,44}\b"),
    ),
    Pattern("Linear API key", "high", LazyRegex(r"\blin_api_[A-Za-z0-9]{40}\b")),
    Pattern("Postman API key", "high", LazyRegex(r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b")),
    Pattern("Databricks token", "critical", LazyRegex(r"\bdapi[a-f0-9]{32}(?:-\d)?\b")),
    Pattern("Twilio API key", "high", LazyRegex(r"\bSK[0-9a-f]{32}\b")),
    Pattern("Telegram bot token", "high", LazyRegex(r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])")),
    Pattern("Square access token", "critical", LazyRegex(r"\bsq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}\b")),
    Pattern("New Relic API key", "high", LazyRegex(r"\bNRAK-[A-Z0-9]{27}\b")),
    Pattern(
        "Grafana token",
        "high",
        LazyRegex(r"\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})"),
    ),
    Pattern("Azure storage account key", "critical", LazyRegex(r"AccountKey=([A-Za-z0-9+/]{86}==)")),
    Pattern("age secret key", "critical", LazyRegex(r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b")),
    Pattern(
        "OpenAI or Anthropic API key", "high", LazyRegex(r"\bsk-(?:proj-|ant-[a-z0-9]{2,10}-)?[A-Za-z0-9_\-]{32,250}")
    ),
    Pattern(
        "password in a connection URL",
        "high",
        LazyRegex(
            r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|https?|ftps?|sftp|smtps?|"
            r"ldaps?)(?:\+[a-z0-9]+)?://[^:/@\s\"'<>]{0,100}:([^@/\s\"'<>]{4,200})@"
        ),
    ),
    Pattern(  # ADO.NET, JDBC and ODBC style: Server=db;User Id=sa;Password=...;
        "password in a connection string",
        "high",
        LazyRegex(r"(?<![A-Za-z0-9_])(?:[Pp]assword|PASSWORD|[Pp]wd|PWD)=([^;\"'\s]{4,200}+);"),
    ),
    Pattern(
        "JSON Web Token",
        "medium",
        LazyRegex(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
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
    "Shopify access token": ("shpat_", "shpca_", "shppa_", "shpss_"),
    "DigitalOcean token": ("_v1_",),
    "HashiCorp Vault token": ("hvs.", "hvb."),
    "Doppler token": ("dp.",),
    "Linear API key": ("lin_api_",),
    "Postman API key": ("PMAK-",),
    "Databricks token": ("dapi",),
    "Twilio API key": ("SK",),
    "Telegram bot token": (":AA",),
    "Square access token": ("sq0",),
    "New Relic API key": ("NRAK-",),
    "Grafana token": ("glsa_", "glc_"),
    "Azure storage account key": ("AccountKey=",),
    "age secret key": ("AGE-SECRET-KEY-",),
    "OpenAI or Anthropic API key": ("sk-",),
    "password in a connection URL": ("://",),
    "password in a connection string": ("assword=", "ASSWORD=", "wd=", "WD="),
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
_NOT_A_SECRET_NAME = LazyRegex(
    r"(?i)(url|uri|endpoint|path|file|dir|name|type|field|label|header|length|len|size|count|min|max|"
    r"prefix|pattern|regex|env|var|ttl|expiry|expires|expiration|timeout|lifetime|format|hash|id|usage|"
    r"placeholder|policy|rotation|version|enabled|required|provider|kind|mode|method|algorithm|alg)$"
)
# After the name: = : := => (or a YAML key), then a quoted value or, in config formats, a bare one.
_ASSIGNED_VALUE = LazyRegex(
    r"""["']?(?:[ \t]*:[ \t]*&?'?[A-Za-z_][\w.]*(?:\[\])?\??)?[ \t]*(?::=|=>|=|:)[ \t]*(?:(?P<q>["'`])(?P<quoted>[^"'`\n]{4,300})(?P=q)|"""
    r"""(?P<bare>[^\s"'`#,;(){}\[\]<>]{4,300}+)(?=[ \t]*(?:$|\#|;|,)))""",
    re.MULTILINE,
)
# Bare values count only where a bare value is data: env, YAML, TOML, properties, compose files, and
# KEY=value lines (shell exports, Dockerfile ENV, .env content pasted into any file).
CONFIG_SUFFIXES = {".env", ".yml", ".yaml", ".toml", ".properties", ".ini", ".cfg", ".conf", ".npmrc",
                   ".pypirc", ".netrc", ".tfvars", ".sh", ".bash", ".zsh", ".config"}  # fmt: skip
_ENV_LINE = LazyRegex(r"^\s*(?:export\s+|ENV\s+|-\s+)?[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)

# Where only provider patterns count: prose, whose credentials are examples.
DOC_SUFFIXES = {".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".textile", ".rdoc", ".pod"}
_DOC_DIRS = {"doc", "docs", "documentation"}  # sources, built pages (sqlalchemy ships its HTML) and tooling
# Generic kinds: what makes them a secret is the value, not a shape a provider issues.
GENERIC_KINDS = frozenset(
    {"hard-coded credential", "password in a connection URL", "password in a connection string", "JSON Web Token"}
)
_TEST_DIRS = {"test", "tests", "__tests__", "spec", "specs", "testing", "e2e", "fixtures", "fixture", "testdata",
              "test-data", "test_data", "__fixtures__", "__mocks__", "mocks"}  # fmt: skip
_TEST_NAME = re.compile(r"(^test_.*|.*_test\.\w+$|.*\.(test|spec)\.\w+$|^conftest\.py$|.*Tests?\.(java|kt|cs)$)", re.I)
# Docstrings (a triple-quoted string opening a line) and /** doc comments */.
_DOCSTRING = LazyRegex(r"(?m)^[ \t]*[rRuUbB]{0,2}(\"\"\"|''')")
_DOC_COMMENT = LazyRegex(r"/\*\*(?!/)")
_DOCSTRING_SUFFIXES = {".py", ".pyi"}
_DOC_COMMENT_SUFFIXES = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".go", ".php", ".cs",
                         ".scala", ".swift", ".rs", ".c", ".h", ".cpp", ".hpp", ".dart"}  # fmt: skip

Place = Literal["code", "test", "docs"]


class Leak(NamedTuple):
    kind: str
    severity: Severity
    start: int  # offsets of the secret itself in the text
    end: int
    line: int
    # A generic credential in documentation is masked like any secret, but not reported.
    reported: bool = True
    in_test: bool = False  # under a test or fixture tree: reported at info, as a test fixture


def scan(text: str, path: str = "", *, data: bool = False) -> list[Leak]:
    """Everything that looks like a secret, for masking; `Leak.reported` says what counts as a
    finding. `data`: the text is a secret-bearing file's content, where bare values count."""
    place = place_of(path)
    found: list[tuple[int, int, str, Severity]] = []  # sorted by start, never overlapping
    for pattern in PATTERNS:
        hints = _HINTS.get(pattern.kind)
        if hints and not any(hint in text for hint in hints):
            continue
        regex = pattern.regex.compile()
        group = 1 if regex.groups else 0
        for match in regex.finditer(text):
            if pattern.kind == "private key" or _could_be(pattern.kind, match.group(group), data):
                _add(found, *match.span(group), pattern.kind, pattern.severity)
    bare_allowed = data or is_config(path)
    for name, match in _assignments(text):
        value = match.group("quoted") or match.group("bare")
        if match.group("bare") and not (bare_allowed or _ENV_LINE.match(text, _line_start(text, match.start()))):
            continue
        if _NOT_A_SECRET_NAME.search(name) or not credible(value, words=data):
            continue
        group = "quoted" if match.group("quoted") else "bare"
        _add(found, *match.span(group), "hard-coded credential", "high" if bare_allowed else "medium")
    prose = [] if data or place == "docs" else _prose_spans(text, path)
    leaks, line, counted = [], 1, 0
    for start, end, kind, severity in found:
        line += text.count("\n", counted, start)
        counted = start
        in_prose = not data and (place == "docs" or _inside(prose, start))
        reported = not (kind in GENERIC_KINDS and in_prose)
        if place == "test":
            leaks.append(Leak(kind, "info", start, end, line, reported, in_test=True))
        else:
            leaks.append(Leak(kind, severity, start, end, line, reported))
    return leaks


def _could_be(kind: str, value: str, data: bool) -> bool:
    # A JWT's shape is specific enough; a password in a URL is only as good as its value.
    return credible(value, words=data) if kind in GENERIC_KINDS and kind != "JSON Web Token" else plausible(value)


def place_of(path: str) -> Place:
    """Documentation, test or fixture code, or code and configuration that ship."""
    pure = PurePosixPath(path.split("#", 1)[0])  # a part's label: "deploy.yml#L1-L90"
    if pure.suffix.lower() in DOC_SUFFIXES or any(part.lower() in _DOC_DIRS for part in pure.parts[:-1]):
        return "docs"
    return "test" if is_test_path(path) else "code"


def is_test_path(path: str) -> bool:
    pure = PurePosixPath(path.split("#", 1)[0])
    return any(part.lower() in _TEST_DIRS for part in pure.parts[:-1]) or bool(_TEST_NAME.match(pure.name))


def _prose_spans(text: str, path: str) -> list[tuple[int, int]]:
    """The docstrings of a Python file, or the doc comments of a C-family one: (start, end), in order."""
    suffix = PurePosixPath(path.split("#", 1)[0]).suffix.lower()
    if suffix in _DOCSTRING_SUFFIXES and ('"""' in text or "'''" in text):
        opening = _DOCSTRING
    elif suffix in _DOC_COMMENT_SUFFIXES and "/**" in text:
        opening = _DOC_COMMENT
    else:
        return []
    spans, cursor = [], 0
    while found := opening.search(text, cursor):
        closing = found.group(1) if found.groups() else "*/"
        close = text.find(closing, found.end())
        cursor = len(text) if close < 0 else close + len(closing)
        spans.append((found.start(), cursor))
    return spans


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    index = bisect.bisect_right(spans, offset, key=lambda span: span[0]) - 1
    return index >= 0 and offset < spans[index][1]


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
    return [to_finding(leak, path or None) for leak in scan(text, path) if leak.reported]


def secret_file_findings(path: str, content: str | None) -> list[Finding]:
    """What a secret-bearing file (.env, id_rsa, credentials.json, a key store...) holds, each at
    critical: the file exists to carry secrets, so a match in it is one. A binary key store cannot be
    scanned, so its presence is the finding. Under a test tree, they are test fixtures, at info."""
    in_test = is_test_path(path)
    if content is None:
        return [
            Finding(
                severity="info" if in_test else "critical",
                category="secrets",
                title="Key store committed to the repository" + (" (a test fixture)" if in_test else ""),
                detail=f"{PurePosixPath(path).name} is a binary key store or certificate bundle; it was not read."
                + (_FIXTURE_NOTE if in_test else ""),
                file=path,
                suggestion="Remove it from the repository and its history, and rotate the keys it holds.",
                source="secrets",
                rule="key store",
            )
        ]
    findings = []
    for leak in scan(content, path, data=True):  # a secret-bearing file is data: bare values count
        finding = to_finding(leak, path)
        if not leak.in_test:
            title = f"{leak.kind[0].upper()}{leak.kind[1:]} in a committed secrets file"
            finding = finding.model_copy(update={"severity": "critical", "title": title})
        findings.append(finding)
    return findings


_FIXTURE_NOTE = (
    " It sits under a test or fixture tree, so it is most likely a test fixture: reported for your "
    "information; if it is a real key, rotate it."
)


def to_finding(leak: Leak, file: str | None) -> Finding:
    where = "a test fixture" if leak.in_test else "source code"
    return Finding(
        severity=leak.severity,
        category="secrets",
        title=f"{leak.kind[0].upper()}{leak.kind[1:]} in {where}",
        detail=(
            f"A {leak.kind} ({leak.end - leak.start} characters, masked here) is committed in the code. "
            "Anyone who can read the code can use it." + (_FIXTURE_NOTE if leak.in_test else "")
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
