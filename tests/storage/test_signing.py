from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from hashigo.storage.protocol import InvalidKey, SigningUnsupported, StorageError
from hashigo.storage.signing import (
    InvalidSignature,
    SignatureExpired,
    sign_local_url,
    verify_signature,
    verify_signed_url,
)

SECRET = "a-long-random-signing-secret"
BASE = "https://api.example.com/api/v1/files"
NOW = 1_800_000_000.0


def sign(key: str = "avatars/42.png", method: str = "GET", seconds: int = 60) -> str:
    return sign_local_url(BASE, key, method, timedelta(seconds=seconds), SECRET, now=NOW)  # type: ignore[arg-type]


def test_round_trip_returns_the_key() -> None:
    url = sign()
    assert url.startswith(BASE + "/avatars/42.png?")
    assert verify_signed_url(url, "GET", SECRET, BASE, now=NOW + 59) == "avatars/42.png"


def test_unicode_key_round_trip() -> None:
    url = sign("写真/夏 休み.jpg")
    assert "%E5%86%99" in url
    assert verify_signed_url(url, "GET", SECRET, BASE, now=NOW) == "写真/夏 休み.jpg"


def test_expired() -> None:
    url = sign(seconds=60)
    with pytest.raises(SignatureExpired):
        verify_signed_url(url, "GET", SECRET, BASE, now=NOW + 60)


def test_method_is_bound() -> None:
    get_url = sign(method="GET")
    with pytest.raises(InvalidSignature, match="signed for GET, not PUT"):
        verify_signed_url(get_url, "PUT", SECRET, BASE, now=NOW)
    # Rewriting the method parameter breaks the signature.
    with pytest.raises(InvalidSignature):
        verify_signed_url(get_url.replace("method=GET", "method=PUT"), "PUT", SECRET, BASE, now=NOW)
    put_url = sign(method="PUT")
    assert verify_signed_url(put_url, "put", SECRET, BASE, now=NOW) == "avatars/42.png"


@pytest.mark.parametrize("tamper", [
    lambda u: u.replace("avatars/42.png", "avatars/43.png"),
    lambda u: u.replace("expires=", "expires=9"),
    lambda u: u[:-1] + ("0" if u[-1] != "0" else "1"),
    lambda u: u.replace("https://api.example.com", "https://evil.example.com"),
    lambda u: u + "&signature=00",
    lambda u: u.split("&signature=")[0],
])
def test_tampering_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSignature):
        verify_signed_url(tamper(sign()), "GET", SECRET, BASE, now=NOW)


def test_other_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify_signed_url(sign(), "GET", "another-secret", BASE, now=NOW)
    with pytest.raises(InvalidSignature, match="no signing secret"):
        verify_signed_url(sign(), "GET", "", BASE, now=NOW)


def test_path_traversal_in_a_forged_url_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify_signed_url(f"{BASE}/..%2F..%2Fetc/passwd?method=GET&expires=1&signature=x", "GET", SECRET, BASE)


def test_signing_needs_a_secret_and_a_valid_key_and_expiry() -> None:
    with pytest.raises(SigningUnsupported, match="STORAGE_SIGNING_SECRET"):
        sign_local_url(BASE, "k", "GET", timedelta(seconds=5), "")
    with pytest.raises(InvalidKey):
        sign_local_url(BASE, "../k", "GET", timedelta(seconds=5), SECRET)
    with pytest.raises(StorageError, match="7-day"):
        sign_local_url(BASE, "k", "GET", timedelta(days=8), SECRET)
    with pytest.raises(StorageError, match="positive"):
        sign_local_url(BASE, "k", "GET", timedelta(0), SECRET)
    with pytest.raises(SigningUnsupported):
        sign_local_url(BASE, "k", "DELETE", timedelta(seconds=5), SECRET)  # type: ignore[arg-type]


def test_low_level_verify_uses_parsed_parameters() -> None:
    query = parse_qs(urlsplit(sign()).query)
    verify_signature("avatars/42.png", "GET", query["expires"][0], query["signature"][0], SECRET, now=NOW)
    with pytest.raises(InvalidSignature, match="whole number"):
        verify_signature("avatars/42.png", "GET", "soon", query["signature"][0], SECRET, now=NOW)


def test_default_clock() -> None:
    url = sign_local_url(BASE, "k", "GET", timedelta(seconds=30), SECRET)
    assert verify_signed_url(url, "GET", SECRET, BASE) == "k"
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert abs(expires - (time.time() + 30)) < 5
