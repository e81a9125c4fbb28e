"""Security checklist 1–7 and 16: forged, altered, expired and misdirected tokens, over HTTP.

Each refusal is paired with the same token built correctly being accepted, so a test cannot
pass merely because everything is refused.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import event

from hashigo.errors import ConfigError
from hashigo.service.auth.codec import codec_for
from hashigo.settings import load_settings
from tests.harness.blackhole import Blackhole
from tests.harness.service import Api
from tests.service.accounts import Account, signed_in

ME = "/api/v1/users/me"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: str = "sha256") -> str:
    """A JWT signed by hand, so no library stops us from making a bad one."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


class Forge:
    """Tokens for a real user and login, built from its real claims with changes."""

    def __init__(self, api: Api, account: Account) -> None:
        self.codec = codec_for(api.runtime.settings)
        self.claims: dict[str, Any] = jwt.decode(account.access_token, options={"verify_signature": False})
        self.header: dict[str, Any] = jwt.get_unverified_header(account.access_token)

    def token(self, header: dict[str, Any] | None = None, key: bytes | None = None, **claims: Any) -> str:
        merged = {k: v for k, v in {**self.claims, **claims}.items() if v is not None}
        head = {k: v for k, v in {**self.header, **(header or {})}.items() if v is not None}
        return hs256(head, merged, key if key is not None else self.codec.signing_key)


async def status_with(api: Api, token: str) -> int:
    response = await api.client.get(ME, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.json()["code"] == "invalid_token"
    return response.status_code


@pytest.fixture
async def forge(api: Api) -> Forge:
    return Forge(api, await signed_in(api.client))


async def test_forge_builds_accepted_tokens(api: Api, forge: Forge) -> None:
    # The baseline every refusal below is measured against.
    assert await status_with(api, forge.token()) == 200


async def test_checklist_01_alg_none_is_refused(api: Api, forge: Forge) -> None:
    for alg in ("none", "None", "NONE"):
        header = b64(json.dumps({"alg": alg, "typ": "at+jwt"}).encode())
        unsigned = f"{header}.{b64(json.dumps(forge.claims).encode())}."
        assert await status_with(api, unsigned) == 401
    assert await status_with(api, jwt.encode(forge.claims, "", algorithm="none")) == 401


async def test_checklist_02_algorithms_outside_the_allow_list_are_refused(api: Api, forge: Forge) -> None:
    key = forge.codec.signing_key
    for alg, digest in (("HS384", "sha384"), ("HS512", "sha512")):
        token = hs256({"alg": alg, "typ": "at+jwt", "kid": forge.codec.kid}, forge.claims, key, digest)
        assert await status_with(api, token) == 401
    # Same key, same claims, the configured algorithm: accepted.
    assert await status_with(api, jwt.encode(forge.claims, key, algorithm="HS256",
                                             headers={"typ": "at+jwt", "kid": forge.codec.kid})) == 200


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
async def test_checklist_03_one_changed_byte_is_refused(api: Api, forge: Forge, segment: int) -> None:
    token = forge.token()
    parts = token.split(".")
    for position in (0, len(unb64(parts[segment])) // 2, len(unb64(parts[segment])) - 1):
        raw = bytearray(unb64(parts[segment]))
        raw[position] ^= 0x01
        changed = [*parts]
        changed[segment] = b64(bytes(raw))
        assert await status_with(api, ".".join(changed)) == 401
    assert await status_with(api, token) == 200


async def test_checklist_04_jku_x5u_jwk_are_never_fetched(api: Api, forge: Forge, blackhole: Blackhole) -> None:
    where = f"http://127.0.0.1:{blackhole.port}/keys.json"
    attacker_key = b"attacker-chosen-hmac-key-0123456789abcdef"
    jwk = {"kty": "oct", "k": b64(attacker_key)}
    for header in ({"jku": where}, {"x5u": where}, {"jwk": jwk}, {"x5c": ["MIIB"]}):
        # Signed by the attacker with the key the header points at, and signed with our own key:
        # both refused, because we never take keys from a token and never accept these headers.
        assert await status_with(api, forge.token(header, key=attacker_key)) == 401
        assert await status_with(api, forge.token(header)) == 401
    await asyncio.sleep(0.3)  # give a stray connection time to be accepted
    assert blackhole.held == []


# Audit hooks cannot be removed; this one only looks at file opens naming passwd.
opened_paths: list[str] = []


def _record_opens(name: str, args: tuple[Any, ...]) -> None:
    if name == "open" and args and "passwd" in str(args[0]):
        opened_paths.append(str(args[0]))


sys.addaudithook(_record_opens)


async def test_checklist_04_kid_is_only_a_dictionary_key(api: Api, forge: Forge) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append(f"{statement} {parameters!r}")

    engine = api.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for kid in ("../../etc/passwd", "/etc/passwd", "x' OR '1'='1' --", "0; DROP TABLE users"):
            assert await status_with(api, forge.token({"kid": kid})) == 401
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert opened_paths == []
    assert statements == []  # refused before any query: the kid reached neither a file nor the database
    assert await status_with(api, forge.token({"kid": forge.codec.kid})) == 200


async def test_checklist_05_expired_and_not_yet_valid_tokens_are_refused(api: Api, forge: Forge) -> None:
    leeway = api.runtime.settings.auth.leeway_seconds
    now = int(time.time())
    assert await status_with(api, forge.token(exp=now - leeway - 5)) == 401
    assert await status_with(api, forge.token(nbf=now + leeway + 30)) == 401
    assert await status_with(api, forge.token(iat=now + leeway + 30)) == 401
    # Inside the leeway: clock skew between servers is tolerated.
    assert await status_with(api, forge.token(exp=now - leeway // 2)) == 200
    for missing in ("exp", "iat", "nbf", "sub", "iss", "aud", "typ", "jti", "sid"):
        assert await status_with(api, forge.token(**{missing: None})) == 401, missing


def test_checklist_05_leeway_over_60_seconds_is_refused(tmp_path: Path) -> None:
    env = {"HASHIGO_DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 40}
    assert load_settings({**env, "JWT_LEEWAY": "60"}, env_file=None, cwd=tmp_path).auth.leeway_seconds == 60
    with pytest.raises(ConfigError, match="leeway"):
        load_settings({**env, "JWT_LEEWAY": "61"}, env_file=None, cwd=tmp_path)


async def test_checklist_06_wrong_issuer_or_audience_is_refused(api: Api, forge: Forge) -> None:
    assert await status_with(api, forge.token(iss="someone-else")) == 401
    assert await status_with(api, forge.token(aud="another-api")) == 401
    assert await status_with(api, forge.token(aud=["another-api"])) == 401
    assert await status_with(api, forge.token(aud=[api.runtime.settings.auth.audience])) == 200


async def test_checklist_07_refresh_and_access_tokens_are_told_apart(api: Api) -> None:
    account = await signed_in(api.client)
    assert await status_with(api, account.refresh_token) == 401
    as_refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": account.access_token})
    assert as_refresh.status_code == 401
    # typ in the claims and in the header must agree with the use.
    forge = Forge(api, account)
    assert await status_with(api, forge.token(typ="refresh")) == 401
    assert await status_with(api, forge.token({"typ": "rt+jwt"})) == 401
    assert await status_with(api, forge.token({"typ": "JWT"})) == 401
    assert await status_with(api, account.access_token) == 200


async def test_checklist_16_ids_and_token_ids_carry_128_random_bits(api: Api) -> None:
    seen: set[str] = set()
    for _ in range(3):
        account = await signed_in(api.client)
        for token in (account.access_token, account.refresh_token):
            claims = jwt.decode(token, options={"verify_signature": False})
            for value in (claims["jti"], claims["sid"], claims["sub"]):
                assert len(value) == 32 and int(value, 16) >= 0  # 32 hex digits = 128 bits
            seen.add(claims["jti"])
        seen.update({account.user_id})
    assert len(seen) == 9  # 6 token ids and 3 user ids, all different
