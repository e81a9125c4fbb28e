"""Signed URLs for stores that cannot sign their own (local folder, memory).

The service serves ``<public_base_url>/<key>`` and lets a request through only when the
query carries a signature over (method, key, expiry) made with ``signing_secret``.
The format is ``?method=GET&expires=<unix seconds>&signature=<hex HMAC-SHA256>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import parse_qs, quote, unquote, urlsplit

from hashigo.storage.keys import validate_key
from hashigo.storage.protocol import SignedMethod, SigningUnsupported, StorageError

MAX_EXPIRY = timedelta(days=7)
"""The longest validity S3 allows for a presigned URL; the same cap everywhere keeps stores swappable."""

_METHODS: frozenset[str] = frozenset({"GET", "PUT"})


class InvalidSignature(StorageError):
    """A signed URL was altered, made with another secret, used with another method, or expired."""


class SignatureExpired(InvalidSignature):
    """A signed URL was genuine but is past its expiry."""


def _digest(secret: str, method: str, key: str, expires: int) -> str:
    message = f"hashigo-url-v1\n{method}\n{expires}\n{key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_expiry(expires_in: timedelta) -> None:
    if expires_in <= timedelta(0):
        raise StorageError(f"expires_in must be positive, got {expires_in}; accepted: 1 second to 7 days")
    if expires_in > MAX_EXPIRY:
        raise StorageError(f"expires_in {expires_in} is over the 7-day maximum; accepted: 1 second to 7 days")


def sign_local_url(
    public_base_url: str,
    key: str,
    method: SignedMethod,
    expires_in: timedelta,
    secret: str,
    *,
    now: float | None = None,
) -> str:
    """A URL under ``public_base_url`` that lets its holder ``method`` the object ``key`` until expiry."""
    if not secret:
        raise SigningUnsupported(
            "cannot sign URLs for a local or memory store without a signing secret; "
            "set STORAGE_SIGNING_SECRET (any long random string)"
        )
    if method not in _METHODS:
        raise SigningUnsupported(f"cannot sign method {method!r}; accepted: GET, PUT")
    validate_key(key)
    check_expiry(expires_in)
    issued = time.time() if now is None else now
    expires = int(issued + expires_in.total_seconds())
    signature = _digest(secret, method, key, expires)
    base = public_base_url.rstrip("/")
    return f"{base}/{quote(key, safe='/')}?method={method}&expires={expires}&signature={signature}"


def verify_signature(
    key: str,
    method: str,
    expires: int | str,
    signature: str,
    secret: str,
    *,
    now: float | None = None,
) -> None:
    """Raise ``InvalidSignature`` (or ``SignatureExpired``) unless the signature grants ``method`` on ``key``."""
    if not secret:
        raise InvalidSignature("signed URLs are disabled: no signing secret is configured")
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        raise InvalidSignature("the signed URL's 'expires' is not a whole number of seconds") from None
    expected = _digest(secret, method, key, expires_at)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise InvalidSignature("the signed URL does not match this key, method and expiry")
    current = time.time() if now is None else now
    if current >= expires_at:
        raise SignatureExpired(f"the signed URL expired {int(current - expires_at)} seconds ago")


def verify_signed_url(
    url: str,
    method: str,
    secret: str,
    public_base_url: str,
    *,
    now: float | None = None,
) -> str:
    """Check a URL made by ``sign_local_url`` against the request's actual ``method``; return its key.

    The method is bound twice: the signature covers the method it was issued for, and that
    must equal the method the request is using, so a GET URL cannot upload.
    """
    parts = urlsplit(url)
    base = urlsplit(public_base_url.rstrip("/"))
    base_path = base.path.rstrip("/") + "/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(base_path):
        raise InvalidSignature(f"the URL is not under {public_base_url}")
    try:
        key = unquote(parts.path[len(base_path):], errors="strict")
    except UnicodeDecodeError:
        raise InvalidSignature("the URL's key is not valid UTF-8") from None
    query = parse_qs(parts.query, keep_blank_values=True)

    def single(name: str) -> str:
        values = query.get(name, [])
        if len(values) != 1:
            raise InvalidSignature(f"the signed URL needs exactly one {name!r} parameter")
        return values[0]

    signed_method = single("method")
    if signed_method != method.upper():
        raise InvalidSignature(f"the URL was signed for {signed_method}, not {method.upper()}")
    try:
        validate_key(key)
    except StorageError as exc:
        raise InvalidSignature(str(exc)) from None
    verify_signature(key, signed_method, single("expires"), single("signature"), secret, now=now)
    return key
