"""Prisma's `@default(cuid())` ids, made on our side so rows look alike whoever wrote them."""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import time

# Hand-written: Prisma uses cuid v1 (25 chars: 'c' + time + counter + fingerprint + random, base36);
# the PyPI `cuid` package is unmaintained since 2016, and this is a dozen lines.
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_counter = itertools.count(secrets.randbelow(36**4))


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")[-width:]


_FINGERPRINT = _base36(os.getpid(), 2) + _base36(sum(socket.gethostname().encode()) + 36, 2)


def cuid() -> str:
    return (
        "c"
        + _base36(int(time.time() * 1000), 8)
        + _base36(next(_counter) % 36**4, 4)
        + _FINGERPRINT
        + _base36(secrets.randbits(42), 8)
    )
