"""SRC and DST: store URLs, each with its own endpoint and credentials, opened through the storage port.

A URL carries what locates the store: ``s3://bucket/prefix?endpoint=https://…&region=…&path_style=true``.
Credentials come from the environment (and ``.env``): the usual names (``AWS_ACCESS_KEY_ID``,
``STORAGE_ENDPOINT_URL``, ``AZURE_STORAGE_CONNECTION_STRING`` …) apply to both sides, and the same
names prefixed with ``SRC_`` or ``DST_`` apply to one side only and win, so AWS → R2 needs nothing
but ``DST_AWS_ACCESS_KEY_ID`` and ``DST_AWS_SECRET_ACCESS_KEY`` beside the AWS ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError

from hashigo.errors import ConfigError
from hashigo.settings import StorageSettings
from hashigo.settings_aliases import SIMPLE_SETTINGS, EnvValue, _convert, read_environment
from hashigo.storage import ObjectStore, open_object_store
from hashigo.urls import STORAGE_SCHEMES, StorageUrl, parse_storage_url, strip_credentials

Side = Literal["SRC", "DST"]

_URL_OPTIONS = {"endpoint": ("endpoint_url", "str"), "endpoint_url": ("endpoint_url", "str"),
                "region": ("region", "str"), "path_style": ("path_style", "bool"),
                "force_path_style": ("path_style", "bool")}
# Storage settings a URL's environment may set; the service's own (signing, public URL) do not apply.
_FROM_ENVIRONMENT = tuple((path.split(".", 1)[1], names, kind) for path, names, kind in SIMPLE_SETTINGS
                          if path.startswith("storage.") and path != "storage.public_base_url")


@dataclass(frozen=True, slots=True)
class Endpoint:
    side: Side
    url: str
    """As shown in reports: no credentials."""
    parsed: StorageUrl
    settings: StorageSettings

    def open(self) -> ObjectStore:
        return open_object_store(self.settings)

    def identity(self) -> str:
        """What makes two runs "the same migration" for the journal: scheme, bucket or folder, prefix, endpoint."""
        return f"{self.parsed.base()} {self.settings.endpoint_url or ''}".strip()


def _env_value(env: Mapping[str, EnvValue], side: Side, names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        for candidate in (f"{side}_{name}", name):
            if candidate in env:
                return candidate, env[candidate][0].strip()
    return None


def endpoint_for(url: str, side: Side, *, environ: Mapping[str, str] | None = None,
                 env_file: Path | None = Path(".env"), cwd: Path | None = None) -> Endpoint:
    """Parse ``url`` and gather its settings; raises ``ConfigError`` naming the side and what is accepted."""
    label = "SRC" if side == "SRC" else "DST"
    parsed = parse_storage_url(url, name=label, cwd=cwd)
    env = read_environment(env_file, environ)
    values: dict[str, Any] = {}
    for field, names, kind in _FROM_ENVIRONMENT:
        found = _env_value(env, side, names)
        if found is not None:
            values[field] = _convert(kind, found[1], (found[0],))
    for option, raw in parsed.options.items():
        if option not in _URL_OPTIONS:
            raise ConfigError(f"{label}: unknown URL option {option!r}; accepted: endpoint, region, path_style "
                              f"(e.g. s3://bucket/prefix?endpoint=https://host&region=auto)")
        field, kind = _URL_OPTIONS[option]
        values[field] = _convert(kind, raw, (f"{label} ?{option}",))
    for secret in ("access_key_id", "secret_access_key", "session_token", "azure_account_key",
                   "azure_connection_string"):
        if secret in values:
            values[secret] = SecretStr(values[secret])
    try:
        settings = StorageSettings(url=parsed.base(), **values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{label}: invalid storage setting: {problems}") from None
    if side == "SRC" and parsed.scheme == "file" and not Path(parsed.bucket).is_dir():
        # The local store creates its folder on first use; a mistyped source must not read as empty.
        raise ConfigError(f"SRC: folder {parsed.bucket} does not exist (or is not a folder)")
    shown = strip_credentials(parsed.base()) + (f" (endpoint {settings.endpoint_url})" if settings.endpoint_url else "")
    return Endpoint(side, shown, parsed, settings)


def check_not_nested(source: Endpoint, destination: Endpoint) -> None:
    """Copying a store into itself, or into a folder inside itself, would never finish (or loop)."""
    a, b = source.parsed, destination.parsed
    if a.scheme != b.scheme or a.scheme == "memory" or (source.settings.endpoint_url or "") != (
            destination.settings.endpoint_url or ""):
        return
    if a.scheme == "file":
        inner_a, inner_b = Path(a.bucket), Path(b.bucket)
        nested = inner_a == inner_b or inner_a in inner_b.parents or inner_b in inner_a.parents
    else:
        pa, pb = (a.prefix + "/" if a.prefix else ""), (b.prefix + "/" if b.prefix else "")
        nested = a.bucket == b.bucket and (pa.startswith(pb) or pb.startswith(pa))
    if nested:
        raise ConfigError(f"SRC {source.url} and DST {destination.url} overlap (one is inside the other); "
                          f"accepted: two stores, or two prefixes of one bucket neither of which contains the other")


def default_journal_path(source: Endpoint, destination: Endpoint, cwd: Path | None = None) -> Path:
    digest = hashlib.sha256(f"{source.identity()}\n{destination.identity()}".encode()).hexdigest()[:16]
    return (cwd or Path.cwd()) / ".hashigo" / "migrate" / f"storage-{digest}.sqlite"


__all__ = ["STORAGE_SCHEMES", "Endpoint", "Side", "check_not_nested", "default_journal_path", "endpoint_for"]
