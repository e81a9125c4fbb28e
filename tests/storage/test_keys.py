from __future__ import annotations

import pytest

from hashigo.storage.keys import MAX_KEY_BYTES, validate_key, validate_prefix
from hashigo.storage.protocol import InvalidKey

GOOD = ["a", "avatars/42/photo.jpg", "ユーザー/写真.png", "with space/and+plus", "a.b/c..d/...e", "#hash", "x#",
        "x#1a", "dir/.hidden", "a" * 240, "/".join(["é" * 100] * 5)]

BAD = {
    "": "empty",
    "/etc/passwd": "starts with '/'",
    "dir/": "ends with '/'",
    "a//b": "empty segment",
    "../escape": "'..' segment",
    "a/../../b": "'..' segment",
    "a/./b": "'.' segment",
    ".": "'.' segment",
    "nul\x00": "control character",
    "line\nbreak": "control character",
    "c1\x85": "control character",
    "del\x7f": "control character",
    "win\\path": "backslash",
    "a" * 241: "over 240 bytes",
    "x/" * 512 + "x": f"over the {MAX_KEY_BYTES}-byte limit",
    ".hashigo-meta/aa/x.json": "reserved",
    "deep/.hashigo/x": "reserved",
    "upload#12": "'#<digits>'",
    "surrogate\udc80": "lone surrogate",
}


@pytest.mark.parametrize("key", GOOD)
def test_valid_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "rule"), BAD.items(), ids=[repr(k)[:24] for k in BAD])
def test_invalid_keys_name_the_rule_and_what_is_accepted(key: str, rule: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        validate_key(key)
    message = str(caught.value)
    assert rule in message
    assert "accepted:" in message


def test_key_limit_counts_utf8_bytes_not_characters() -> None:
    key = "/".join(["é" * 100] * 5) + "/" + "é" * 8  # 1000 + 5 + 16 bytes
    assert len(key.encode()) == 1021
    validate_key(key)
    with pytest.raises(InvalidKey):
        validate_key(key + "éé")


def test_non_str_key() -> None:
    with pytest.raises(InvalidKey, match="str, not bytes"):
        validate_key(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("prefix", "normalised"), [("", ""), ("a", "a"), ("a/", "a"), ("a/b/", "a/b")])
def test_prefixes(prefix: str, normalised: str) -> None:
    assert validate_prefix(prefix) == normalised


@pytest.mark.parametrize("prefix", ["/", "//", "a//", "/a", "../", "a/../"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidKey):
        validate_prefix(prefix)
