"""``open_object_store(settings)``: the URL picks the adapter. Nothing here touches the network or disk."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from obstore.store import AzureStore, GCSStore, MemoryStore, S3Store

from hashigo.errors import ConfigError
from hashigo.settings import StorageSettings
from hashigo.storage.keys import validate_key
from hashigo.storage.local import LocalAdapter
from hashigo.storage.obstore_adapter import AdapterOptions, ObstoreAdapter
from hashigo.storage.protocol import InvalidKey, ObjectStore
from hashigo.storage.s3_multipart import S3ResumableUploads, S3Target
from hashigo.storage.sigv4 import Credentials
from hashigo.urls import StorageUrl, parse_storage_url, strip_credentials

if TYPE_CHECKING:
    from obstore.store import AzureConfig, ClientConfig, GCSConfig, RetryConfig, S3Config

TRANSFER_CEILING = timedelta(hours=6)
"""reqwest's whole-request limit. Stalls are caught much sooner (read timeout, per-chunk and
per-call bounds in the adapter); this only has to let a very large download finish."""


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else None


def _client_options(settings: StorageSettings, endpoint: str | None) -> ClientConfig:
    options: ClientConfig = {
        "connect_timeout": timedelta(seconds=settings.connect_timeout_seconds),
        "read_timeout": timedelta(seconds=settings.timeout_seconds),
        "timeout": TRANSFER_CEILING,
    }
    if endpoint is not None and endpoint.startswith("http://"):
        options["allow_http"] = True
    return options


def _retry(settings: StorageSettings) -> RetryConfig:
    # Retries must end before the adapter's own bound, so the caller sees the backend's error.
    return {
        "max_retries": 3,
        "retry_timeout": timedelta(seconds=settings.timeout_seconds),
        "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=2), "base": 2},
    }


def _prefix(parsed: StorageUrl) -> str | None:
    """The URL's prefix, held to the same rules as keys so it cannot point outside the bucket."""
    if not parsed.prefix:
        return None
    try:
        validate_key(parsed.prefix)
    except InvalidKey as exc:
        raise ConfigError(f"STORAGE_URL prefix {parsed.prefix!r} is not usable: {exc}") from None
    return parsed.prefix


def _options(settings: StorageSettings, backend: str, *, native_signing: bool,
             copy_if_absent_drops_attributes: bool = False, bucket: str | None = None,
             bucket_kind: str = "bucket", location: str = "") -> AdapterOptions:
    url = strip_credentials(settings.url)
    if settings.endpoint_url:
        url += f" (endpoint {strip_credentials(settings.endpoint_url)})"
    return AdapterOptions(
        backend=backend,
        url=url,
        timeout_seconds=settings.timeout_seconds,
        signing_secret=settings.signing_secret.get_secret_value(),
        public_base_url=settings.public_base_url,
        native_signing=native_signing,
        copy_if_absent_drops_attributes=copy_if_absent_drops_attributes,
        bucket=bucket,
        bucket_kind=bucket_kind,
        location=location,
    )


def _s3(settings: StorageSettings, parsed: StorageUrl) -> ObjectStore:
    bucket, prefix = parsed.bucket, _prefix(parsed)
    endpoint = settings.endpoint_url
    config: S3Config = {}
    if endpoint:
        # A custom endpoint (MinIO, R2, Supabase) gets path-style requests: endpoint/bucket/key.
        config["endpoint"] = endpoint.rstrip("/")
        config["virtual_hosted_style_request"] = False
    else:
        config["virtual_hosted_style_request"] = not settings.path_style
    config["region"] = settings.region or ("auto" if endpoint and "r2.cloudflarestorage.com" in endpoint
                                           else "us-east-1")
    access_key, secret_key = _secret(settings.access_key_id), _secret(settings.secret_access_key)
    if access_key and secret_key:
        config["access_key_id"] = access_key
        config["secret_access_key"] = secret_key
        token = _secret(settings.session_token)
        if token:
            config["session_token"] = token
    elif access_key or secret_key:
        raise ConfigError("set both STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY, or neither "
                          "(then the AWS environment, profile or instance role is used)")
    r2 = bool(endpoint and "r2.cloudflarestorage.com" in endpoint)
    # AWS does copy-if-absent as a multipart copy completed with If-None-Match; R2 has a header.
    config["copy_if_not_exists"] = "header:cf-copy-destination-if-none-match:*" if r2 else "multipart"
    try:
        store = S3Store(bucket, prefix=prefix, config=config, client_options=_client_options(settings, endpoint),
                        retry_config=_retry(settings))
    except Exception as exc:
        raise ConfigError(f"S3 store {strip_credentials(settings.url)!r}: {exc}") from exc
    location = strip_credentials(endpoint) if endpoint else f"AWS S3 ({config['region']})"
    return ObstoreAdapter(store, _options(settings, "s3", native_signing=True,
                                          copy_if_absent_drops_attributes=not r2, bucket=bucket, location=location),
                          _s3_uploads(settings, config, bucket, prefix))


def _s3_uploads(settings: StorageSettings, config: S3Config, bucket: str, prefix: str | None
                ) -> S3ResumableUploads | None:
    """Resumable multipart needs keys to sign with: from the settings or the AWS environment variables.
    Without them (instance roles, SSO profiles) obstore's credential chain still serves every other call."""
    access_key = config.get("access_key_id") or os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = config.get("secret_access_key") or os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        return None
    token = config.get("session_token") if "access_key_id" in config else os.environ.get("AWS_SESSION_TOKEN")
    target = S3Target.for_bucket(
        bucket, prefix, endpoint=config.get("endpoint"), region=config["region"],
        path_style=not config.get("virtual_hosted_style_request", True),
        credentials=Credentials(access_key, secret_key, token or None),
        timeout_seconds=settings.timeout_seconds, connect_timeout_seconds=settings.connect_timeout_seconds,
    )
    return S3ResumableUploads(target)


def _gcs(settings: StorageSettings, parsed: StorageUrl) -> ObjectStore:
    bucket, prefix = parsed.bucket, _prefix(parsed)
    config: GCSConfig = {}
    if settings.gcs_service_account_path:
        # The key file may also carry "gcs_base_url" and "disable_oauth" (emulators, proxies).
        config["service_account"] = settings.gcs_service_account_path
    if settings.endpoint_url:
        config["base_url"] = settings.endpoint_url.rstrip("/")
    try:
        store = GCSStore(bucket, prefix=prefix, config=config,
                         client_options=_client_options(settings, settings.endpoint_url),
                         retry_config=_retry(settings))
    except Exception as exc:
        raise ConfigError(f"GCS store {strip_credentials(settings.url)!r}: {exc}") from exc
    location = (strip_credentials(settings.endpoint_url) if settings.endpoint_url
                else "storage.googleapis.com (or the key file's gcs_base_url)")
    return ObstoreAdapter(store, _options(settings, "gcs", native_signing=True, bucket=bucket, location=location))


def _parse_connection_string(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in value.split(";"):
        name, sep, item = part.partition("=")
        if sep:
            fields[name.strip()] = item.strip()
    return fields


def _azure(settings: StorageSettings, parsed: StorageUrl) -> ObjectStore:
    container, prefix = parsed.bucket, _prefix(parsed)
    config: AzureConfig = {}
    endpoint = settings.endpoint_url
    connection = _secret(settings.azure_connection_string)
    if connection:
        fields = _parse_connection_string(connection)
        if "AccountName" in fields:
            config["account_name"] = fields["AccountName"]
        if "AccountKey" in fields:
            config["account_key"] = fields["AccountKey"]
        if "SharedAccessSignature" in fields:
            config["sas_key"] = fields["SharedAccessSignature"]
        endpoint = endpoint or fields.get("BlobEndpoint")
    if settings.azure_account_name:
        config["account_name"] = settings.azure_account_name
    account_key = _secret(settings.azure_account_key)
    if account_key:
        config["account_key"] = account_key
    if endpoint:
        config["endpoint"] = endpoint.rstrip("/")
    if "account_name" not in config:
        raise ConfigError("an az:// store needs STORAGE_AZURE_ACCOUNT_NAME or STORAGE_AZURE_CONNECTION_STRING")
    try:
        store = AzureStore(container, prefix=prefix, config=config,
                           client_options=_client_options(settings, endpoint), retry_config=_retry(settings))
    except Exception as exc:
        raise ConfigError(f"Azure store {strip_credentials(settings.url)!r}: {exc}") from exc
    location = strip_credentials(endpoint) if endpoint else f"Azure account {config['account_name']!r}"
    return ObstoreAdapter(store, _options(settings, "azure", native_signing=True, bucket=container,
                                          bucket_kind="container", location=location))


def open_object_store(settings: StorageSettings) -> ObjectStore:
    """The adapter ``settings.url`` names, configured but not yet connected."""
    if settings.timeout_seconds <= 0 or settings.connect_timeout_seconds <= 0:
        raise ConfigError("storage timeouts must be positive seconds")
    parsed = parse_storage_url(settings.url, name="STORAGE_URL")
    if parsed.scheme == "file":
        return LocalAdapter(Path(parsed.bucket), _options(settings, "local", native_signing=False))
    if parsed.scheme == "memory":
        return ObstoreAdapter(MemoryStore(), _options(settings, "memory", native_signing=False))
    if parsed.scheme == "s3":
        return _s3(settings, parsed)
    if parsed.scheme == "gs":
        return _gcs(settings, parsed)
    return _azure(settings, parsed)  # parse_storage_url accepts no other scheme
