"""Password policy and argon2id hashing (OWASP Password Storage cheat sheet, ASVS V6).

Policy: 8 to 1024 characters, any characters, no composition rules, never truncated; the
most common passwords (zxcvbn's frequency list) are refused. The upper bound only caps the
hashing cost an anonymous request can cause.

Hashing: argon2id with argon2-cffi's RFC 9106 profile (m=64 MiB, t=3, p=4), above OWASP's
floor of m=19 MiB, t=2. Hashing and verifying run in a worker thread so the event loop keeps
serving other requests; a hash made with other parameters is replaced at the next login.
"""

from __future__ import annotations

import asyncio
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHash((Argon2Hasher(),))


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused, or ``None`` when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters (any characters, up to " \
               f"{MAX_PASSWORD_LENGTH})"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    if password.lower() in common_passwords():
        return "password is one of the most commonly used passwords; choose a less predictable one " \
               "(a few unrelated words work well)"
    return None


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most frequent passwords (lower case), loaded once on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify_and_update(password: str, stored_hash: str) -> tuple[bool, str | None]:
    try:
        return _hasher.verify_and_update(password, stored_hash)
    except UnknownHashError:
        return False, None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


async def verify_password(password: str, stored_hash: str) -> tuple[bool, str | None]:
    """``(matches, new_hash)``: ``new_hash`` is set when the stored one used other parameters."""
    return await asyncio.to_thread(_verify_and_update, password, stored_hash)


async def verify_against_dummy(password: str) -> None:
    """Spend the time a real check costs when the account does not exist, so timing does not
    tell unknown users from wrong passwords."""
    await asyncio.to_thread(_verify_and_update, password, _dummy_hash())


@cache
def _dummy_hash() -> str:
    import secrets

    return _hash(secrets.token_urlsafe(32))  # no password is known for it
