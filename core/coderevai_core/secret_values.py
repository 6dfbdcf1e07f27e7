"""Whether a matched value could be a real secret. A provider's token is checked for placeholders
and variety only (its shape is already specific); a generic credential (a value assigned to a
secret-sounding name, a password in a URL) must also read as something a person or a generator
would set: long enough, enough entropy for its alphabet, not a word, a placeholder, a reference to
something else, a sequence or a repeat.

Hand-written rather than calling detect-secrets' heuristic filters: on our labelled cases
(benchmarks/precision.py) they would drop 14 of the 86 real secrets we report (is_indirect_reference
10: any call or subscript assigned on the line; is_likely_id_string 4: an `_id` name before it) and
no look-alike these rules let through, and importing them costs about a second and 190 modules on a
cold start."""

from __future__ import annotations

import math
from collections import Counter

from coderevai_core.lazy_regex import LazyRegex

MIN_GENERIC_LENGTH = 8

# Values that are obviously not real credentials (docs, templates, tests): placeholders, templating.
_PLACEHOLDER = LazyRegex(
    r"(?i)x{3,}|\*{3,}|\.{3}|(?<![a-z0-9])(your|my|insert|replace|put|enter)[_\-\s]|example|changeme|change[_\-]me|"
    r"placeholder|dummy|sample|redacted|whatever|<[^>]*>|^[(\[].*[)\]]$|%[A-Z_]+%|\$\{|\{\{|\{%|\{\w*(?::[^{}]*)?\}|%\(|\$[A-Z_]|^\$|^(test|fake|mock)|"
    r"^(none|null|nil|true|false|undefined|todo|fixme|secret|password|token|pass|pwd)$|"
    r"^process\.env|^os\.(environ|getenv)|^env\("
)
# A value that names where the secret comes from, rather than being it.
_REFERENCE = LazyRegex(
    r"(?i)^(?:os\.environ|os\.getenv|getenv|process\.env|import\.meta\.env|env\[|env\.fetch|env\(|"
    r"settings\.|config\.|secrets\.|vault:|System\.getenv|Deno\.env|ssm:|arn:aws:secretsmanager)"
)
_IDENTIFIER = LazyRegex(r"^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$|^[a-z]+(?:_[a-z]+)+$|^[A-Z]+(?:_[A-Z]+)+$")
_WORDS = LazyRegex(r"^_*[A-Za-z]+(?:[-_ .][A-Za-z]+)*_*$")
_CONSONANT_RUN = LazyRegex(r"[b-df-hj-np-tv-xz]{5,}")
_WEAK_DEFAULT = LazyRegex(
    r"(?i)^(?:password|passwd|secret|admin|administrator|test|testing|changeme|default|root|user|guest|demo|"
    r"qwerty|letmein|welcome|login|pass|dev|development|local|example|foobar|foo|bar)[-_]?\d*[!.]*$"
)
# Demo credentials every tutorial uses (scott/tiger, hunter2), alone or with a short suffix.
_DEMO = LazyRegex(r"(?i)^(?:tiger|hunter2|p@ssw0rd|passw0rd|pa55w0rd)[\W_]?\w{0,6}$")
_COLOUR = LazyRegex(r"(?i)^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$")
_PATH = LazyRegex(r"^(?:~|\.{1,2})?/[\w.\-/]+$|^[\w\-/]+\.(?:json|pem|key|crt|txt|ya?ml|env|p12|pfx)$")
_URL_WITHOUT_CREDENTIALS = LazyRegex(r"(?i)^[a-z][a-z0-9+.\-]*://[^@\s]*$")
# Keys that are public or cannot move money by design: Stripe publishable and test-mode keys.
_PUBLIC_OR_TEST_KEY = LazyRegex(r"^(?:pk_(?:live|test)_|sk_test_|rk_test_)")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "0987654321")
_VOWELS = frozenset("aeiouy")


def plausible(value: str) -> bool:
    """A provider token: no placeholder, enough variety of characters."""
    return not _PLACEHOLDER.search(value) and entropy(value) >= 3.0 and len(set(value)) >= 8


def credible(value: str, *, words: bool = False) -> bool:
    """A generic credential: a value someone could have set as a password, key or token. `words`:
    a phrase counts too (in a file that exists to hold secrets, such as .env, `very-secret-pass`
    is one someone set; in code it is far more often a label or a default)."""
    if len(value) < MIN_GENERIC_LENGTH or any(char.isspace() for char in value):
        return False  # too short to be worth stealing, or prose ("Reset your password")
    if _PLACEHOLDER.search(value) or _REFERENCE.match(value) or _WEAK_DEFAULT.match(value) or _DEMO.match(value):
        return False
    if _IDENTIFIER.match(value) or value.isdigit() or _COLOUR.match(value) or _PATH.match(value):
        return False
    if _URL_WITHOUT_CREDENTIALS.match(value) or _PUBLIC_OR_TEST_KEY.match(value):
        return False
    if (not words and is_words(value)) or is_sequence(value) or is_repeat(value):
        return False
    return len(set(value)) >= 5 and entropy(value) >= max(2.5, 0.7 * math.log2(min(len(value), alphabet_size(value))))


def is_words(value: str) -> bool:
    """Letters in words (config, development, set-password, _sa_default, ThisIsMyKey): a phrase, not a
    key. A generated letters-only token has few vowels (about one letter in five) and long runs of
    consonants; words have neither."""
    if not _WORDS.match(value):
        return False
    letters = "".join(char.lower() if char.isalpha() else " " for char in value)
    vowels = sum(char in _VOWELS for char in letters)
    return vowels >= 0.2 * len(letters.replace(" ", "")) and not _CONSONANT_RUN.search(letters)


def is_sequence(value: str) -> bool:
    """abcdefgh, 12345678, zyxw..., qwertyuiop: most steps between neighbours are +-1, or the value
    is a run along a keyboard row."""
    lowered = value.lower()
    if any(lowered in row for row in _KEYBOARD_ROWS):
        return True
    steps = [ord(b) - ord(a) for a, b in zip(lowered, lowered[1:], strict=False)]
    return sum(step in (1, -1) for step in steps) >= 0.6 * len(steps)


def is_repeat(value: str) -> bool:
    """aaaa..., abababab, abc123abc123abc123: a short unit, or any unit three times or more (a
    person's password doubled, hunter2hunter2, is still a password)."""
    period = (value + value).find(value, 1)  # the length of the repeated unit, if there is one
    return period <= 4 or period <= len(value) // 3


def alphabet_size(value: str) -> int:
    """The size of the alphabet the value seems drawn from: hex, or the character classes it uses."""
    if all(char in "0123456789abcdef" for char in value) or all(char in "0123456789ABCDEF" for char in value):
        return 16
    size = 0
    size += 26 if any(char.islower() for char in value) else 0
    size += 26 if any(char.isupper() for char in value) else 0
    size += 10 if any(char.isdigit() for char in value) else 0
    size += 32 if any(not char.isalnum() for char in value) else 0
    return max(size, 2)


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
