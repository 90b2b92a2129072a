"""Object ids (cuid2-shaped) and the resolution of `{id}` references.

A cuid2 is a letter followed by 23 base-36 characters of a SHA3 hash over time, a counter,
random bytes and a host fingerprint. The reference `cuid2` package builds it in pure Python
(~36 µs); hashing with hashlib's C SHA3 gives the same shape for a fraction of that.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import socket
import string
import time

ID_LENGTH = 24
_LETTERS = string.ascii_lowercase
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_FINGERPRINT = hashlib.sha3_256(f"{socket.gethostname()}{os.getpid()}".encode()).digest()
_counter = itertools.count(int.from_bytes(os.urandom(4), "big"))
_CUID = re.compile(rf"[a-z][a-z0-9]{{{ID_LENGTH - 1}}}")
_DISPLAY_ID = re.compile(r"[0-9]{1,18}")


def new_id() -> str:
    """A fresh cuid2-shaped id: lowercase, starts with a letter, 24 characters."""
    seed = b"%d:%d:" % (time.time_ns(), next(_counter)) + os.urandom(16) + _FINGERPRINT
    number = int.from_bytes(hashlib.sha3_512(seed).digest()[:20], "big")
    chars = []
    for _ in range(ID_LENGTH - 1):
        number, digit = divmod(number, 36)
        chars.append(_DIGITS36[digit])
    return _LETTERS[os.urandom(1)[0] % 26] + "".join(chars)


def parse_reference(value: object) -> int | str | None:
    """Classify a reference: a display_id (int or digit string), a cuid, or None if malformed.

    A string of digits is a display_id, anything else must look like a cuid. Malformed
    references answer None so callers can turn them into a plain 404.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if not isinstance(value, str):
        return None
    if _DISPLAY_ID.fullmatch(value):
        number = int(value)
        return number if number > 0 else None
    return value if _CUID.fullmatch(value) else None
