"""The class's codes and secrets: a join code to type, a teacher's secret, a student's rejoin token.

The store keeps only hashes. Tokens are long and random, so a plain SHA-256 is enough (and can be looked up);
a PIN a teacher chose is short, so it is salted and stretched (PBKDF2) against guessing from a stolen store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: a code read off a projector is typed without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
TOKEN_BYTES = 18
PIN_ITERATIONS = 200_000


def new_code() -> str:
    """A join code: 6 letters and digits, about 887 million of them."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as a student may type it (lower case, spaces) in the form the store keeps."""
    return "".join(str(text).split()).upper()


def new_token() -> str:
    """A secret for an address: a teacher's secret or a student's rejoin token (144 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def hash_pin(pin: str) -> str:
    """``salt$hash`` of a PIN (PBKDF2-SHA256)."""
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", str(pin).encode(), bytes.fromhex(salt), PIN_ITERATIONS).hex()
    return f"{salt}${digest}"


def pin_matches(pin: str, stored: str | None) -> bool:
    if not stored or "$" not in stored:
        return False
    salt, digest = stored.split("$", 1)
    given = hashlib.pbkdf2_hmac("sha256", str(pin).encode(), bytes.fromhex(salt), PIN_ITERATIONS).hex()
    return hmac.compare_digest(given, digest)


def token_matches(token: str, stored: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored)
