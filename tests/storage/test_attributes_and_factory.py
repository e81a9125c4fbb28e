from __future__ import annotations

import json
from pathlib import Path

import pytest

from hashigo.errors import ConfigError
from hashigo.settings import StorageSettings
from hashigo.storage import InvalidMetadata, ObjectStore, open_object_store
from hashigo.storage.attributes import decode_attributes, encode_attributes


def test_metadata_values_survive_any_unicode() -> None:
    metadata = {"title": "夏の写真 100% ☀", "blank": "", "spaces": "  padded  ", "ascii": "plain-value_1"}
    encoded = encode_attributes("image/png", "no-cache", None, metadata)
    for value in encoded.values():
        assert value.isascii()
        assert " " not in value or value in ("image/png", "no-cache")
    decoded = decode_attributes(encoded)
    assert decoded["metadata"] == metadata
    assert decoded["content_type"] == "image/png"
    assert decoded["cache_control"] == "no-cache"
    assert encoded["ascii"] == "plain-value_1"  # readable in other tools when it can be


def test_backend_header_names_are_matched_case_insensitively() -> None:
    decoded = decode_attributes({"content-type": "text/plain", "Owner": "x", "Content-Language": "ja"})
    assert decoded["content_type"] == "text/plain"
    assert decoded["metadata"] == {"owner": "x"}


@pytest.mark.parametrize("metadata", [{"Upper": "x"}, {"has-dash": "x"}, {"1digit": "x"}, {"": "x"},
                                      {"k" * 65: "x"}, {"big": "x" * 2100}])
def test_unportable_metadata_is_rejected(metadata: dict[str, str]) -> None:
    with pytest.raises(InvalidMetadata, match=r"accepted|limit"):
        encode_attributes(None, None, None, metadata)


@pytest.mark.parametrize("value", ["", " text/plain", "text/plain\r\nX: y", "text/写真"])
def test_header_values_must_be_printable_ascii(value: str) -> None:
    with pytest.raises(InvalidMetadata, match="accepted"):
        encode_attributes(value, None, None, None)


@pytest.mark.parametrize("url", ["file:///tmp/hashigo-store", "memory://", "s3://bucket", "s3://bucket/a/prefix",
                                 "gs://bucket/p", "az://container/p"])
def test_factory_builds_every_scheme_without_connecting(url: str, tmp_path: Path) -> None:
    extra: dict[str, object] = {}
    if url.startswith("az://"):
        extra = {"azure_account_name": "devstoreaccount1", "azure_account_key": "a2V5",
                 "endpoint_url": "http://127.0.0.1:9/devstoreaccount1"}
    if url.startswith("s3://"):
        extra = {"endpoint_url": "http://127.0.0.1:9", "access_key_id": "AKIA", "secret_access_key": "SECRET",
                 "session_token": "TOKEN"}
    if url.startswith("gs://"):
        account = tmp_path / "sa.json"
        account.write_text(json.dumps({"private_key": "", "private_key_id": "", "client_email": "x@y.z",
                                       "disable_oauth": True, "gcs_base_url": "http://127.0.0.1:9"}))
        extra = {"gcs_service_account_path": str(account)}
    store = open_object_store(StorageSettings(url=url, **extra))  # type: ignore[arg-type]
    assert isinstance(store, ObjectStore)
    assert url.split("://")[0] in store.url
    for secret in ("SECRET", "TOKEN", "a2V5"):
        assert secret not in store.url


def test_redacted_url_hides_credentials() -> None:
    store = open_object_store(StorageSettings(url="s3://bucket/p", endpoint_url="http://user:pw@127.0.0.1:9"))
    assert "pw" not in store.url
    assert store.url == "s3://bucket/p (endpoint http://127.0.0.1:9)"


def test_azure_connection_string() -> None:
    connection = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
                  "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
    store = open_object_store(StorageSettings(url="az://c", azure_connection_string=connection))  # type: ignore[arg-type]
    assert store.url == "az://c"


@pytest.mark.parametrize(("settings", "message"), [
    ({"url": "ftp://host/dir"}, "accepted: file:///abs/dir"),
    ({"url": "file://relative/dir"}, "names a host"),
    ({"url": "s3://"}, "names no bucket"),
    ({"url": "s3://bucket/../up"}, "prefix"),
    ({"url": "s3://bucket", "access_key_id": "only-one"}, "both"),
    ({"url": "az://container"}, "ACCOUNT_NAME"),
])
def test_configuration_errors_name_the_setting(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        open_object_store(StorageSettings(**settings))  # type: ignore[arg-type]
