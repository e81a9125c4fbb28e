"""JWT issuing and checking (RFC 8725 best current practice).

- One algorithm, chosen by configuration, is the only one accepted when decoding: ``alg: none``
  and algorithm confusion (an RSA public key used as an HMAC secret) cannot pass.
- HS256 keys derive from ``SECRET_KEY`` (256 bits, purpose-bound); EdDSA and RS256 read PEM
  files whose type and size are checked at start-up.
- ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are never read (a token carrying one is
  refused); ``kid`` is only a lookup key in an in-memory dict of our own keys.
- ``typ`` tells access from refresh tokens, in the claims and in the JOSE header.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from hashigo.errors import ConfigError
from hashigo.settings import Settings, derive_secret

TokenType = Literal["access", "refresh"]
HEADER_TYPES: dict[TokenType, str] = {"access": "at+jwt", "refresh": "rt+jwt"}
ALLOWED_HEADERS = frozenset({"alg", "typ", "kid"})
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "typ", "jti", "sid"]
MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048


class InvalidToken(Exception):
    """The token cannot be trusted; the message is for logs, never for the client."""


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    family_id: str
    jti: str
    typ: TokenType
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


def new_id() -> str:
    """128 bits from the OS CSPRNG, hex: user ids, family ids and token ids."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class TokenCodec:
    algorithm: str
    signing_key: Any
    verifying_keys: dict[str, Any]  # kid -> key; kid is only ever a key into this dict
    kid: str
    issuer: str
    audience: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    leeway: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        """Raises ``ConfigError`` for keys that would make tokens forgeable or unreadable."""
        auth = settings.auth
        if auth.algorithm == "HS256":
            signing, verifying = _hmac_key(settings)
        else:
            signing, verifying = _key_pair(auth.algorithm, auth.private_key_path, auth.public_key_path)
        kid = _key_id(verifying)
        return cls(auth.algorithm, signing, {kid: verifying}, kid, auth.issuer, auth.audience,
                   timedelta(seconds=auth.access_ttl_seconds), timedelta(seconds=auth.refresh_ttl_seconds),
                   timedelta(seconds=auth.leeway_seconds))

    def issue(self, typ: TokenType, subject: str, family_id: str, expires_at: datetime | None = None,
              now: datetime | None = None) -> IssuedToken:
        now = now or datetime.now(UTC)
        expires_at = expires_at or now + self.access_ttl
        jti = new_id()
        claims = {"iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "nbf": now,
                  "exp": expires_at, "jti": jti, "typ": typ, "sid": family_id}
        headers = {"typ": HEADER_TYPES[typ], "kid": self.kid}
        token = jwt.encode(claims, self.signing_key, algorithm=self.algorithm, headers=headers)
        return IssuedToken(token, jti, expires_at.replace(microsecond=0))

    def decode(self, token: str, typ: TokenType) -> Claims:
        """Verify signature, algorithm, time, issuer, audience and type; ``InvalidToken`` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._key_for(header)
            decoded = jwt.decode_complete(
                token, key, algorithms=[self.algorithm], audience=self.audience, issuer=self.issuer,
                leeway=self.leeway, options={"require": REQUIRED_CLAIMS, "verify_signature": True})
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from None
        payload = decoded["payload"]
        if payload["typ"] != typ or decoded["header"].get("typ") != HEADER_TYPES[typ]:
            raise InvalidToken(f"expected a {typ} token, got typ={payload['typ']!r}")
        for name in ("sub", "sid", "jti"):
            if not isinstance(payload[name], str):
                raise InvalidToken(f"claim {name} is not a string")
        return Claims(payload["sub"], payload["sid"], payload["jti"], typ,
                      datetime.fromtimestamp(payload["exp"], UTC))

    def _key_for(self, header: dict[str, Any]) -> Any:
        unexpected = set(header) - ALLOWED_HEADERS
        if unexpected:  # jku/x5u/jwk/x5c and friends: never fetched, never trusted
            raise jwt.InvalidTokenError(f"header parameters not accepted: {sorted(unexpected)}")
        kid = header.get("kid", self.kid)
        key = self.verifying_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidTokenError("unknown kid")
        return key


def _hmac_key(settings: Settings) -> tuple[bytes, bytes]:
    secret = settings.security.secret_key.get_secret_value()
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"SECRET_KEY is {len(secret.encode())} bytes; HS256 tokens need at least "
                          f"{MIN_SECRET_BYTES} bytes (256 bits) of random data, e.g. "
                          f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    key = bytes.fromhex(derive_secret(settings.security.secret_key, "hashigo/jwt").get_secret_value())
    return key, key


def _key_pair(algorithm: str, private_path: Path | None, public_path: Path | None) -> tuple[Any, Any]:
    if private_path is None or public_path is None:
        raise ConfigError(f"JWT_ALGORITHM={algorithm} needs both JWT_PRIVATE_KEY_PATH and JWT_PUBLIC_KEY_PATH "
                          f"(PEM files); or use HS256, which derives its key from SECRET_KEY")
    private_key: Any = _load_pem(private_path, private=True)
    public_key: Any = _load_pem(public_path, private=False)
    wanted: tuple[type, type] = {"RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
                                 "EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)}[algorithm]
    if not isinstance(private_key, wanted[0]) or not isinstance(public_key, wanted[1]):
        kind = "an RSA" if algorithm == "RS256" else "an Ed25519"
        raise ConfigError(f"JWT_ALGORITHM={algorithm} needs {kind} key pair; {private_path} / {public_path} "
                          f"hold another kind of key")
    if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"the RSA key in {private_path} has {private_key.key_size} bits; RS256 needs at least "
                          f"{MIN_RSA_BITS}")
    if _public_der(_public_half(private_key)) != _public_der(public_key):
        raise ConfigError(f"{public_path} is not the public half of {private_path}")
    return private_key, public_key


def _public_half(private_key: Any) -> Any:
    return private_key.public_key()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read JWT key file {path}: {exc.strerror or exc}") from None


def _load_pem(path: Path, *, private: bool) -> Any:
    data = _read(path)
    try:
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        kind = "an unencrypted PEM private key" if private else "a PEM public key"
        raise ConfigError(f"JWT key file {path} is not {kind}: {str(exc).splitlines()[0] if str(exc) else exc}"
                          ) from None


def _public_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def _key_id(verifying_key: Any) -> str:
    material = verifying_key if isinstance(verifying_key, bytes) else _public_der(verifying_key)
    # For HMAC the id must not reveal the key: hash it under a distinct label.
    return hashlib.sha256(b"hashigo-kid:" + material).hexdigest()[:16]
