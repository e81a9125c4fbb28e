"""The seeds' storage variables, turned into one storage URL.

seed 003 (Hera): ``STORAGE_MODE=local|cloud``, ``CLOUD_STORAGE_TYPE=s3|gcs|azure``,
``S3_BUCKET_NAME``, ``GCS_BUCKET_NAME``, ``SESSIONS_DIR``.
seed 002 (asotobase): ``STORAGE_PROVIDER=supabase|s3``, ``S3_BUCKET``, ``SUPABASE_URL``,
``SUPABASE_KEY``. Supabase Storage speaks S3 at ``{SUPABASE_URL}/storage/v1/s3`` with
path-style addressing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from hashigo.errors import ConfigError
from hashigo.settings import Origin
from hashigo.urls import StorageUrl, parse_storage_url

EnvValue = tuple[str, str]


@dataclass
class AliasStorage:
    url: StorageUrl
    names: tuple[str, ...]
    given: Mapping[str, str]
    extra: dict[str, tuple[Any, Origin]] = field(default_factory=dict)

    def describe(self) -> str:
        return " + ".join(f"{n}={self.given[n]}" for n in self.names if n in self.given)


def _get(env: Mapping[str, EnvValue], name: str) -> str | None:
    found = env.get(name)
    return found[0].strip() if found else None


def _bucket(env: Mapping[str, EnvValue], names: tuple[str, ...], purpose: str) -> tuple[str, str]:
    given = [(n, v) for n in names if (v := _get(env, n))]
    if not given:
        raise ConfigError(f"{purpose} needs a bucket: set {' or '.join(names)}")
    first_name, first = given[0]
    for other_name, other in given[1:]:
        if other != first:
            raise ConfigError(f"{first_name}={first!r} and {other_name}={other!r} disagree; set one of them")
    return first_name, first


def _from_storage_mode(env: Mapping[str, EnvValue], cwd: Path) -> AliasStorage | None:
    mode = _get(env, "STORAGE_MODE")
    if mode is None:
        return None
    given = {"STORAGE_MODE": mode}
    if mode.lower() == "local":
        folder = _get(env, "SESSIONS_DIR")
        if folder is None:
            return None  # local with no folder is the embedded default
        given["SESSIONS_DIR"] = folder
        url = parse_storage_url("file://" + str((cwd / folder).resolve()), name="SESSIONS_DIR")
        return AliasStorage(url, ("STORAGE_MODE", "SESSIONS_DIR"), given)
    if mode.lower() != "cloud":
        raise ConfigError(f"STORAGE_MODE={mode!r} is not accepted; use local or cloud")
    kind = _get(env, "CLOUD_STORAGE_TYPE")
    if kind is None:
        raise ConfigError("STORAGE_MODE=cloud needs CLOUD_STORAGE_TYPE=s3, gcs or azure")
    given["CLOUD_STORAGE_TYPE"] = kind
    buckets = {
        "s3": ("s3", ("S3_BUCKET_NAME", "S3_BUCKET")),
        "gcs": ("gs", ("GCS_BUCKET_NAME",)),
        "azure": ("az", ("AZURE_CONTAINER_NAME", "AZURE_STORAGE_CONTAINER")),
    }
    if kind.lower() not in buckets:
        raise ConfigError(f"CLOUD_STORAGE_TYPE={kind!r} is not accepted; use s3, gcs or azure")
    scheme, names = buckets[kind.lower()]
    bucket_name, bucket = _bucket(env, names, f"CLOUD_STORAGE_TYPE={kind}")
    given[bucket_name] = bucket
    url = parse_storage_url(f"{scheme}://{bucket}", name=bucket_name)
    return AliasStorage(url, ("STORAGE_MODE", "CLOUD_STORAGE_TYPE", bucket_name), given)


def _from_storage_provider(env: Mapping[str, EnvValue]) -> AliasStorage | None:
    provider = _get(env, "STORAGE_PROVIDER")
    if provider is None:
        return None
    given = {"STORAGE_PROVIDER": provider}
    if provider.lower() == "s3":
        bucket_name, bucket = _bucket(env, ("S3_BUCKET", "S3_BUCKET_NAME"), "STORAGE_PROVIDER=s3")
        given[bucket_name] = bucket
        return AliasStorage(parse_storage_url(f"s3://{bucket}", name=bucket_name),
                            ("STORAGE_PROVIDER", bucket_name), given)
    if provider.lower() != "supabase":
        raise ConfigError(f"STORAGE_PROVIDER={provider!r} is not accepted; use supabase or s3")
    base = _get(env, "SUPABASE_URL")
    if base is None:
        raise ConfigError("STORAGE_PROVIDER=supabase needs SUPABASE_URL (https://<project-ref>.supabase.co)")
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"SUPABASE_URL={base!r} is not accepted; expected https://<project-ref>.supabase.co")
    given["SUPABASE_URL"] = base
    bucket_name, bucket = _bucket(env, ("SUPABASE_BUCKET", "S3_BUCKET"), "STORAGE_PROVIDER=supabase")
    given[bucket_name] = bucket
    names = ("STORAGE_PROVIDER", "SUPABASE_URL", bucket_name)
    origin = Origin("alias", names)
    alias = AliasStorage(parse_storage_url(f"s3://{bucket}", name=bucket_name), names, given)
    alias.extra["storage.endpoint_url"] = (f"{parts.scheme}://{parts.netloc}/storage/v1/s3", origin)
    alias.extra["storage.path_style"] = (True, origin)
    key = _get(env, "SUPABASE_KEY")
    if key is not None and _get(env, "AWS_ACCESS_KEY_ID") is None:
        # Session-token auth: project ref as key id, the project key as secret and token.
        project_ref = parts.hostname.split(".")[0]
        key_origin = Origin("alias", ("SUPABASE_URL", "SUPABASE_KEY"))
        alias.extra["storage.access_key_id"] = (SecretStr(project_ref), key_origin)
        alias.extra["storage.secret_access_key"] = (SecretStr(key), key_origin)
        alias.extra["storage.session_token"] = (SecretStr(key), key_origin)
    return alias


def storage_url_from_aliases(env: Mapping[str, EnvValue], cwd: Path) -> AliasStorage | None:
    by_mode = _from_storage_mode(env, cwd)
    by_provider = _from_storage_provider(env)
    if by_mode is not None and by_provider is not None and by_mode.url.base() != by_provider.url.base():
        raise ConfigError(f"{by_mode.describe()} (→ {by_mode.url.base()}) conflicts with {by_provider.describe()} "
                          f"(→ {by_provider.url.base()}); keep one of STORAGE_MODE or STORAGE_PROVIDER")
    return by_mode or by_provider
