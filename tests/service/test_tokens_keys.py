"""Key pairs (RS256, EdDSA) and start-up refusals: checklist 2 (algorithm confusion) and 8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from hashigo.errors import ConfigError
from hashigo.service.auth.tokens import TokenCodec
from hashigo.settings import load_settings
from tests.harness.service import running_api
from tests.service.accounts import signed_in
from tests.service.test_tokens import b64, hs256

ME = "/api/v1/users/me"
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def write_pair(directory: Path, key: PrivateKey, name: str = "jwt") -> dict[str, str]:
    private = directory / f"{name}.key"
    public = directory / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return {"JWT_PRIVATE_KEY_PATH": str(private), "JWT_PUBLIC_KEY_PATH": str(public)}


def settings_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "test-secret-" + "k" * 40, **extra}


def codec(tmp_path: Path, **extra: str) -> TokenCodec:
    return TokenCodec.from_settings(load_settings(settings_env(tmp_path, **extra), env_file=None, cwd=tmp_path))


async def test_checklist_02_rs256_public_key_as_hmac_secret_is_refused(service_env: dict[str, str],
                                                                        tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = write_pair(tmp_path, key)
    # The public key is public: an attacker can sign with it as an HMAC secret.
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    async with running_api({**service_env, "JWT_ALGORITHM": "RS256", **keys}, tmp_path) as api:
        account = await signed_in(api.client)
        assert jwt.get_unverified_header(account.access_token)["alg"] == "RS256"
        ok = await api.client.get(ME, headers=account.headers)
        assert ok.status_code == 200
        claims: dict[str, Any] = jwt.decode(account.access_token, options={"verify_signature": False})
        confused = hs256({"alg": "HS256", "typ": "at+jwt"}, claims, public_pem)
        unsigned = f"{b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{b64(json.dumps(claims).encode())}."
        for token in (confused, unsigned):
            refused = await api.client.get(ME, headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401


async def test_eddsa_key_pair_signs_and_verifies(service_env: dict[str, str], tmp_path: Path) -> None:
    keys = write_pair(tmp_path, ed25519.Ed25519PrivateKey.generate())
    async with running_api({**service_env, "JWT_ALGORITHM": "EdDSA", **keys}, tmp_path) as api:
        account = await signed_in(api.client)
        assert jwt.get_unverified_header(account.access_token)["alg"] == "EdDSA"
        assert (await api.client.get(ME, headers=account.headers)).status_code == 200
        refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
        assert refreshed.status_code == 200


def test_checklist_08_rsa_key_under_2048_bits_is_refused(tmp_path: Path) -> None:
    small = write_pair(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ConfigError, match="1024 bits; RS256 needs at least 2048"):
        codec(tmp_path, JWT_ALGORITHM="RS256", **small)


def test_checklist_08_unusable_key_files_are_refused(tmp_path: Path) -> None:
    ed = write_pair(tmp_path, ed25519.Ed25519PrivateKey.generate(), "ed")
    ecdsa = write_pair(tmp_path, ec.generate_private_key(ec.SECP256R1()), "ec")
    other = write_pair(tmp_path, ed25519.Ed25519PrivateKey.generate(), "other")
    (tmp_path / "junk.pem").write_text("not a key")
    cases: list[tuple[dict[str, str], str]] = [
        ({"JWT_ALGORITHM": "RS256", **ed}, "needs an RSA key pair"),
        ({"JWT_ALGORITHM": "EdDSA", **ecdsa}, "needs an Ed25519 key pair"),
        ({"JWT_ALGORITHM": "EdDSA", **ed, "JWT_PUBLIC_KEY_PATH": other["JWT_PUBLIC_KEY_PATH"]},
         "is not the public half"),
        ({"JWT_ALGORITHM": "EdDSA", **ed, "JWT_PRIVATE_KEY_PATH": str(tmp_path / "missing.key")},
         "cannot read JWT key file"),
        ({"JWT_ALGORITHM": "EdDSA", **ed, "JWT_PRIVATE_KEY_PATH": str(tmp_path / "junk.pem")},
         "is not an unencrypted PEM private key"),
        ({"JWT_ALGORITHM": "RS256"}, "needs both JWT_PRIVATE_KEY_PATH and JWT_PUBLIC_KEY_PATH"),
    ]
    for env, message in cases:
        with pytest.raises(ConfigError, match=message):
            codec(tmp_path, **env)
    assert codec(tmp_path, JWT_ALGORITHM="EdDSA", **ed).algorithm == "EdDSA"


def test_checklist_08_hs256_secret_under_256_bits_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is 31 bytes; HS256 tokens need at least 32 bytes"):
        codec(tmp_path, SECRET_KEY="s" * 31)
    assert len(codec(tmp_path, SECRET_KEY="s" * 32).signing_key) == 32  # 256-bit derived key


@pytest.mark.parametrize("secret", ["changeme", "your-secret-key", "x" * 64, "Zq3" + "a" * 10])
def test_checklist_08_placeholder_or_weak_secret_is_refused_outside_development(tmp_path: Path,
                                                                               secret: str) -> None:
    for environment in ("production", "staging"):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            load_settings(settings_env(tmp_path, SECRET_KEY=secret, HASHIGO_ENV=environment), env_file=None,
                          cwd=tmp_path)


def run_serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "JWT_", "HASHIGO_"))}
    environ.update(settings_env(tmp_path, HASHIGO_PORT="1", **env))
    return subprocess.run([sys.executable, "-m", "hashigo", "serve", "--no-migrate"], env=environ, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], needle: str) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert needle in output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output


def test_checklist_08_serve_exits_2_on_a_placeholder_secret_in_production(tmp_path: Path) -> None:
    result = run_serve(tmp_path, HASHIGO_ENV="production", SECRET_KEY="changeme")
    assert_one_line_refusal(result, "SECRET_KEY looks like a placeholder")


def test_checklist_08_serve_exits_2_on_a_small_rsa_key(tmp_path: Path) -> None:
    small = write_pair(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=1024))
    result = run_serve(tmp_path, JWT_ALGORITHM="RS256", **small)
    assert_one_line_refusal(result, "RS256 needs at least 2048")
