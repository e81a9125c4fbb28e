"""One suite for every object-store adapter, each against a real server (or the real disk).

Backends: local folder, memory, S3 on moto (full S3 semantics in memory), S3 on
``rclone serve s3`` (disk-backed, enforces signatures and expiry, but ignores
If-None-Match), Azure on Azurite, GCS on fake-gcs-server.

obstore's GCSStore speaks GCS's XML API. Upstream fake-gcs-server serves its reads (GET, HEAD,
``?list-type=2``, DELETE, signed URLs) but has no XML upload: ``PUT /{bucket}/{key}`` answers 400
"invalid uploadType", and copies are such PUTs too. So on it, tests whose subject is a write skip
(``Backend.needs_writes``), and the others put their fixtures in through the JSON API
(``Backend.write``), so GCS reads, listing, ranges, attributes, prefixes, key encoding, signing and
outages all run against a real server. A server that does accept XML uploads (probed at start) runs
everything. gcp-storage-emulator is no use at all: it answers 501 to HEAD and list.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hashigo.errors import BackendUnavailable
from hashigo.settings import StorageSettings
from hashigo.storage import (
    ByteRange,
    InvalidKey,
    InvalidMetadata,
    InvalidSignature,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    open_object_store,
    verify_signed_url,
)
from hashigo.storage.attributes import encode_attributes
from tests.harness.base import free_port
from tests.harness.objectstores import (
    AzureServer,
    GcsServer,
    S3Server,
    create_bucket,
    seed_gcs_object,
    start_azurite,
    start_fake_gcs,
    start_moto,
    start_rclone,
    unique_prefix,
)

SECRET = "conformance-signing-secret-0123456789"
PUBLIC_BASE = "http://files.test/api/v1/files"
BACKENDS = ["local", "memory", "s3-moto", "s3-rclone", "azure", "gcs"]
NO_XML_WRITES = ("fake-gcs-server has no XML-API upload: obstore's PUT /{bucket}/{key} (uploads and copies) "
                 "answers 400 'invalid uploadType'; object_store's CI uses the tustvold/fake-gcs-server fork")


@dataclass
class Backend:
    name: str
    store: ObjectStore
    settings: StorageSettings
    conditional: bool = True
    """The server honours If-None-Match (rclone serve s3 silently overwrites)."""
    enforces_signatures: bool = True
    """The server rejects expired or altered signed URLs (moto does not check them)."""
    native_signing: bool = True
    writes: bool = True
    """``store.put`` and ``store.copy`` work on this server (not on upstream fake-gcs-server)."""
    gcs: GcsServer | None = None
    prefix: str = ""
    signer: ObjectStore | None = None
    """The store that signs URLs, where it must differ (GCS: a key that signs locally)."""

    def reopen(self, **changes: Any) -> ObjectStore:
        return open_object_store(self.settings.model_copy(update=changes))

    def needs_writes(self) -> None:
        if not self.writes:
            pytest.skip(NO_XML_WRITES)

    async def write(self, key: str, data: bytes, *, content_type: str | None = None,
                    cache_control: str | None = None, content_disposition: str | None = None,
                    metadata: dict[str, str] | None = None) -> None:
        """Put a fixture in place: through the store, or through the JSON API where it cannot write."""
        if self.writes:
            await self.store.put(key, data, content_type=content_type, cache_control=cache_control,
                                 content_disposition=content_disposition, metadata=metadata)
            return
        assert self.gcs is not None
        attributes = dict(encode_attributes(content_type, cache_control, content_disposition, metadata))
        await asyncio.to_thread(seed_gcs_object, self.gcs, f"{self.prefix}/{key}", data, attributes)

    async def sign(self, key: str, method: Any, expires_in: timedelta) -> str:
        if self.gcs is not None and self.signer is None:
            pytest.skip("signing GCS URLs needs an RSA key for the fake service account: pip install cryptography")
        return await (self.signer or self.store).signed_url(key, method, expires_in)


def s3_settings(server: S3Server, prefix: str | None, **extra: Any) -> StorageSettings:
    url = f"s3://{server.bucket}" + (f"/{prefix}" if prefix else "")
    return StorageSettings(url=url, endpoint_url=server.endpoint, region="us-east-1", path_style=True,
                           access_key_id=server.access_key, secret_access_key=server.secret_key, **extra)


def gcs_settings(server: GcsServer, prefix: str | None, **extra: Any) -> StorageSettings:
    url = f"gs://{server.bucket}" + (f"/{prefix}" if prefix else "")
    return StorageSettings(url=url, endpoint_url=server.endpoint, gcs_service_account_path=str(server.service_account),
                           **extra)


def azure_settings(server: AzureServer, prefix: str | None, **extra: Any) -> StorageSettings:
    url = f"az://{server.container}" + (f"/{prefix}" if prefix else "")
    return StorageSettings(url=url, endpoint_url=server.endpoint, azure_account_name=server.account,
                           azure_account_key=server.key, **extra)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    name: str = request.param
    common: dict[str, Any] = {"timeout_seconds": 20, "signing_secret": SECRET, "public_base_url": PUBLIC_BASE}
    if name == "local":
        settings = StorageSettings(url=f"file://{tmp_path}/store", **common)
        b = Backend(name, open_object_store(settings), settings, native_signing=False)
    elif name == "memory":
        settings = StorageSettings(url="memory://", **common)
        b = Backend(name, open_object_store(settings), settings, native_signing=False)
    elif name == "s3-moto":
        server: S3Server = request.getfixturevalue("s3_server")
        settings = s3_settings(server, unique_prefix(), **common)
        b = Backend(name, open_object_store(settings), settings, enforces_signatures=server.enforces_signatures)
    elif name == "s3-rclone":
        server = request.getfixturevalue("rclone_server")
        settings = s3_settings(server, unique_prefix(), **common)
        b = Backend(name, open_object_store(settings), settings, conditional=False)
    elif name == "azure":
        azure: AzureServer = request.getfixturevalue("azure_server")
        settings = azure_settings(azure, unique_prefix(), **common)
        b = Backend(name, open_object_store(settings), settings)
    else:
        gcs: GcsServer = request.getfixturevalue("gcs_server")
        prefix = unique_prefix()
        settings = gcs_settings(gcs, prefix, **common)
        signer = None
        if gcs.signing_account is not None:
            signing = {"gcs_service_account_path": str(gcs.signing_account)}
            signer = open_object_store(settings.model_copy(update=signing))
        # fake-gcs-server does not verify signed URLs (it only looks for X-Goog-Algorithm).
        b = Backend(name, open_object_store(settings), settings, enforces_signatures=False,
                    writes=gcs.xml_writes, gcs=gcs, prefix=prefix, signer=signer)
    yield b
    await b.store.close()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def keys_under(store: ObjectStore, prefix: str = "") -> list[str]:
    return sorted([info.key async for info in store.list(prefix)])


# -- normal use ---------------------------------------------------------------


async def test_put_get_head_delete_round_trip(backend: Backend) -> None:
    store = backend.store
    if backend.writes:
        info = await store.put("docs/hello.txt", b"hello world", content_type="text/plain")
        assert info.key == "docs/hello.txt"
        assert info.size == 11
    else:
        await backend.write("docs/hello.txt", b"hello world", content_type="text/plain")
    stream = await store.get("docs/hello.txt")
    assert stream.info.size == 11
    assert stream.info.content_type == "text/plain"
    assert await stream.read() == b"hello world"
    head = await store.head("docs/hello.txt")
    assert head.size == 11
    assert head.etag
    await store.delete("docs/hello.txt")
    with pytest.raises(ObjectNotFound) as caught:
        await store.head("docs/hello.txt")
    assert caught.value.key == "docs/hello.txt"
    with pytest.raises(ObjectNotFound):
        await store.get("docs/hello.txt")
    await store.delete("docs/hello.txt")  # idempotent
    await store.delete("never/existed")


async def test_overwrite_replaces_content(backend: Backend) -> None:
    backend.needs_writes()
    await backend.store.put("k", b"first")
    await backend.store.put("k", b"second!")
    assert await (await backend.store.get("k")).read() == b"second!"
    assert (await backend.store.head("k")).size == 7


async def test_empty_object(backend: Backend) -> None:
    backend.needs_writes()
    store = backend.store
    await store.put("empty/bytes", b"")
    await store.put("empty/stream", chunks())
    for key in ("empty/bytes", "empty/stream"):
        assert (await store.head(key)).size == 0
        assert await (await store.get(key)).read() == b""
    assert await keys_under(store, "empty") == ["empty/bytes", "empty/stream"]


async def test_unicode_and_deep_keys(backend: Backend) -> None:
    store = backend.store
    keys = ["ユーザー/アバター 写真.png", "émoji/🎉 party.txt", "/".join(f"d{i}" for i in range(40)) + "/leaf",
            "spaces and +plus&amp=?#hash.txt", "a" * 240 + "/" + "é" * 120]
    for number, key in enumerate(keys):
        await backend.write(key, f"value {number}".encode())
    for number, key in enumerate(keys):
        assert await (await store.get(key)).read() == f"value {number}".encode()
        assert (await store.head(key)).key == key
    assert await keys_under(store) == sorted(keys)


async def test_attributes_round_trip(backend: Backend) -> None:
    store = backend.store
    metadata = {"owner": "user-42", "title": "夏の写真 100% ☀", "x_empty": ""}
    attributes: dict[str, Any] = {
        "content_type": "image/jpeg", "cache_control": "public, max-age=3600",
        "content_disposition": "attachment; filename*=UTF-8''%E5%86%99%E7%9C%9F.jpg", "metadata": metadata,
    }
    if backend.writes:
        info = await store.put("attrs/photo.jpg", b"\xff\xd8jpeg", **attributes)
        assert info.metadata == metadata
    else:  # the attributes are encoded as the adapter would, and decoded by it from the server's answers
        await backend.write("attrs/photo.jpg", b"\xff\xd8jpeg", **attributes)
    for got in (await store.head("attrs/photo.jpg"), (await store.get("attrs/photo.jpg")).info):
        assert got.content_type == "image/jpeg"
        assert got.cache_control == "public, max-age=3600"
        assert got.content_disposition == "attachment; filename*=UTF-8''%E5%86%99%E7%9C%9F.jpg"
        found = {k: v for k, v in got.metadata.items() if k in metadata}
        if backend.name == "s3-moto":
            # moto 5.2.5 keeps an empty value in some runs and drops it in others (same versions);
            # rclone and Azurite always keep it, which is what the adapter sends.
            found.setdefault("x_empty", "")
        assert found == metadata
    # A later write without attributes must not inherit the old ones.
    await backend.write("attrs/photo.jpg", b"plain")
    plain = await store.head("attrs/photo.jpg")
    assert plain.cache_control is None
    assert not {k for k in plain.metadata if k in metadata}


async def test_streamed_put_uploads_in_parts(backend: Backend) -> None:
    if backend.name != "s3-moto":
        pytest.skip("only S3 shows the part count in the ETag ('<md5>-<parts>')")
    part = os.urandom(1024 * 1024)
    await backend.store.put("parts/streamed", chunks(*[part] * 20))
    head = await backend.store.head("parts/streamed")
    assert head.size == 20 * len(part)
    assert head.etag is not None
    assert head.etag.strip('"').endswith("-3")  # 20 MiB in 8 MiB parts


async def test_streamed_attributes_round_trip(backend: Backend) -> None:
    backend.needs_writes()
    await backend.store.put("attrs/streamed", chunks(b"a" * 10, b"b" * 10), content_type="text/csv",
                            metadata={"rows": "2"})
    head = await backend.store.head("attrs/streamed")
    assert head.size == 20
    assert head.content_type == "text/csv"
    assert head.metadata.get("rows") == "2"


async def test_invalid_attributes_rejected(backend: Backend) -> None:
    for kwargs in ({"metadata": {"Bad-Name": "x"}}, {"metadata": {"ok": "x" * 3000}},
                   {"content_type": "text/plain\r\nX-Injected: 1"}, {"content_disposition": "inline; filename=写真"}):
        with pytest.raises(InvalidMetadata):
            await backend.store.put("attrs/bad", b"x", **kwargs)
    with pytest.raises(ObjectNotFound):
        await backend.store.head("attrs/bad")


async def test_byte_ranges(backend: Backend) -> None:
    if backend.name == "s3-rclone":
        pytest.skip("rclone serve s3 answers ranged GETs with 200 instead of 206, which obstore rejects")
    store = backend.store
    data = bytes(range(256)) * 4
    await backend.write("ranges/blob", data)

    async def ranged(start: int, end: int | None) -> bytes:
        stream = await store.get("ranges/blob", byte_range=ByteRange(start, end))
        assert stream.info.size == len(data)
        return await stream.read()

    assert await ranged(0, 1) == data[:1]
    assert await ranged(10, 20) == data[10:20]
    assert await ranged(1000, None) == data[1000:]
    assert await ranged(1000, 5000) == data[1000:]
    assert await ranged(5, 5) == b""
    assert await ranged(len(data), None) == b""
    with pytest.raises(StorageError):
        await ranged(10, 5)
    with pytest.raises(ObjectNotFound):
        await store.get("ranges/missing", byte_range=ByteRange(0, 10))


async def test_get_streams_in_chunks(backend: Backend) -> None:
    data = os.urandom(9 * 1024 * 1024 + 17)
    await backend.write("big/nine", data)
    parts = [chunk async for chunk in await backend.store.get("big/nine")]
    if backend.name != "memory":  # the memory store hands over the one buffer it holds
        assert len(parts) > 1
    assert b"".join(parts) == data


async def test_list_with_prefix(backend: Backend) -> None:
    store = backend.store
    for key in ("a/1", "a/2", "a/b/3", "ab/4", "c"):
        await backend.write(key, b"x")
    assert await keys_under(store) == ["a/1", "a/2", "a/b/3", "ab/4", "c"]
    assert await keys_under(store, "a") == ["a/1", "a/2", "a/b/3"]
    assert await keys_under(store, "a/") == ["a/1", "a/2", "a/b/3"]
    assert await keys_under(store, "a/b") == ["a/b/3"]
    assert await keys_under(store, "zzz") == []
    infos = [info async for info in store.list("a/b")]
    assert infos[0].size == 1
    assert infos[0].last_modified.tzinfo is not None


async def test_list_pages_past_one_thousand(backend: Backend) -> None:
    if backend.name == "azure":
        pytest.skip("Azure pages at 5000 objects, too many to write here; paging is exercised on S3")
    store = backend.store
    semaphore = asyncio.Semaphore(32)

    async def one(number: int) -> None:
        async with semaphore:
            await backend.write(f"many/{number:05d}", b"")

    await asyncio.gather(*(one(n) for n in range(1100)))
    listed = await keys_under(store, "many")
    assert len(listed) == 1100
    assert listed == [f"many/{n:05d}" for n in range(1100)]


async def test_url_prefix_scopes_every_key(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "memory":
        pytest.skip("memory:// has no prefix")
    await backend.write("scoped/file", b"mine")
    root_url = backend.settings.url.rsplit("/", 1)[0]
    root = backend.reopen(url=root_url)
    prefix = backend.settings.url.rsplit("/", 1)[1]
    assert await keys_under(root, prefix) == [f"{prefix}/scoped/file"]
    assert await (await root.get(f"{prefix}/scoped/file")).read() == b"mine"
    neighbour = backend.reopen(url=f"{root_url}/{prefix}-other")
    assert await keys_under(neighbour) == []
    with pytest.raises(ObjectNotFound):
        await neighbour.head("scoped/file")


# -- conditional create and copy ------------------------------------------------


async def test_conditional_create(backend: Backend) -> None:
    backend.needs_writes()
    if not backend.conditional:
        pytest.skip(f"{backend.name} ignores If-None-Match; conditional create is tested on moto and Azurite")
    store = backend.store
    await store.put("cond/k", b"first", if_absent=True)
    with pytest.raises(ObjectExists) as caught:
        await store.put("cond/k", b"second", if_absent=True)
    assert caught.value.key == "cond/k"
    with pytest.raises(ObjectExists):
        await store.put("cond/k", chunks(b"streamed"), if_absent=True)
    assert await (await store.get("cond/k")).read() == b"first"
    await store.put("cond/streamed", chunks(b"a", b"b"), if_absent=True)
    assert await (await store.get("cond/streamed")).read() == b"ab"


async def test_concurrent_conditional_creates_have_one_winner(backend: Backend) -> None:
    backend.needs_writes()
    if not backend.conditional:
        pytest.skip(f"{backend.name} ignores If-None-Match")
    results = await asyncio.gather(
        *(backend.store.put("race/k", f"writer {n}".encode(), if_absent=True) for n in range(8)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, ObjectExists) for r in results if isinstance(r, BaseException))


async def test_copy(backend: Backend) -> None:
    backend.needs_writes()
    store = backend.store
    await store.put("copy/src", b"payload", content_type="application/pdf", metadata={"origin": "test"})
    await store.copy("copy/src", "copy/dst")
    assert await (await store.get("copy/dst")).read() == b"payload"
    copied = await store.head("copy/dst")
    assert copied.content_type == "application/pdf"
    assert copied.metadata.get("origin") == "test"
    await store.put("copy/src", b"changed")
    assert await (await store.get("copy/dst")).read() == b"payload"
    await store.copy("copy/src", "copy/dst")  # overwrite by default
    assert await (await store.get("copy/dst")).read() == b"changed"
    with pytest.raises(ObjectNotFound):
        await store.copy("copy/missing", "copy/other")


async def test_copy_if_absent(backend: Backend) -> None:
    backend.needs_writes()
    if not backend.conditional:
        pytest.skip(f"{backend.name} supports no conditional copy")
    store = backend.store
    await store.put("copy/src", b"payload", content_type="text/plain", metadata={"origin": "test"})
    await store.copy("copy/src", "copy/new", if_absent=True)
    assert await (await store.get("copy/new")).read() == b"payload"
    head = await store.head("copy/new")
    assert head.content_type == "text/plain"
    assert head.metadata.get("origin") == "test"
    await store.put("copy/taken", b"keep me")
    with pytest.raises(ObjectExists) as caught:
        await store.copy("copy/src", "copy/taken", if_absent=True)
    assert caught.value.key == "copy/taken"
    assert await (await store.get("copy/taken")).read() == b"keep me"


# -- invalid keys ---------------------------------------------------------------

BAD_KEYS = ["", "/abs", "a//b", "a/../b", "..", "./a", "a/.", "trailing/", "nul\x00byte", "new\nline",
            "tab\there", "back\\slash", "x/" * 512 + "x", "é" * 121, ".hashigo-meta/ab/x.json", "part#1",
            "lone\udc80surrogate"]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=lambda k: repr(k)[:20])
async def test_invalid_keys_rejected_everywhere(backend: Backend, bad: str, tmp_path: Path) -> None:
    store = backend.store
    await backend.write("good", b"x")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put(bad, b"evil"),
        lambda: store.put(bad, chunks(b"evil")),
        lambda: store.get(bad),
        lambda: store.head(bad),
        lambda: store.delete(bad),
        lambda: store.copy("good", bad),
        lambda: store.copy(bad, "good"),
        lambda: store.signed_url(bad, "PUT", timedelta(minutes=1)),
    ]
    for call in calls:
        with pytest.raises(InvalidKey) as caught:
            await call()
        assert "accepted:" in str(caught.value)
    assert await keys_under(store) == ["good"]
    if backend.name == "local":
        assert entries(tmp_path) == ["store"]  # nothing was written beside the store's folder


def entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


async def test_invalid_list_prefix(backend: Backend) -> None:
    for bad in ("/", "/abs", "a/../b", "x\x00"):
        with pytest.raises(InvalidKey):
            [info async for info in backend.store.list(bad)]


# -- signed URLs -----------------------------------------------------------------


def files_app(store: ObjectStore) -> Callable[..., Awaitable[None]]:
    """The smallest server for local/memory signed URLs: what the service's files route does."""

    async def app(scope: dict[str, Any], receive: Callable[..., Awaitable[Any]],
                  send: Callable[..., Awaitable[None]]) -> None:
        url = f"{PUBLIC_BASE.split('/api')[0]}{scope['raw_path'].decode()}?{scope['query_string'].decode()}"
        try:
            key = verify_signed_url(url, scope["method"], SECRET, PUBLIC_BASE)
        except InvalidSignature as exc:
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": str(exc).encode()})
            return
        if scope["method"] == "PUT":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await store.put(key, body)
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            stream = await store.get(key)
        except ObjectNotFound:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": await stream.read()})

    return app


def http_client(backend: Backend) -> httpx.AsyncClient:
    if backend.native_signing:
        return httpx.AsyncClient(timeout=10)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=files_app(backend.store)), timeout=10)


def put_headers(backend: Backend) -> dict[str, str]:
    return {"x-ms-blob-type": "BlockBlob"} if backend.name == "azure" else {}


async def test_signed_get_and_put(backend: Backend) -> None:
    store = backend.store
    await backend.write("signed/hello.txt", b"hello signed")
    get_url = await backend.sign("signed/hello.txt", "GET", timedelta(minutes=5))
    put_url = await backend.sign("signed/upload.bin", "PUT", timedelta(minutes=5))
    if not backend.native_signing:
        assert get_url.startswith(PUBLIC_BASE + "/")
    async with http_client(backend) as client:
        response = await client.get(get_url)
        assert response.status_code == 200, response.text
        assert response.content == b"hello signed"
        response = await client.put(put_url, content=b"uploaded via url", headers=put_headers(backend))
        assert response.status_code in (200, 201), response.text
    assert await (await store.get("signed/upload.bin")).read() == b"uploaded via url"


async def test_signed_url_unicode_key(backend: Backend, request: pytest.FixtureRequest) -> None:
    if backend.name == "azure":
        request.applymarker(pytest.mark.xfail(
            strict=True, reason="obstore 0.12 signs Azure SAS over the percent-encoded blob name; "
                                "Azurite rejects it (403) for keys with spaces or non-ASCII"))
    await backend.write("signed/写真 1.txt", b"unicode")
    url = await backend.sign("signed/写真 1.txt", "GET", timedelta(minutes=5))
    async with http_client(backend) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.content == b"unicode"


async def test_signed_urls_expire_and_bind_method(backend: Backend) -> None:
    if backend.name == "gcs":
        pytest.skip("fake-gcs-server does not verify signed URLs (it only checks that X-Goog-Algorithm is there)")
    if not backend.enforces_signatures:
        pytest.skip(f"{backend.name} does not verify presigned URLs; rclone serve s3 covers S3 expiry")
    store = backend.store
    await store.put("signed/short", b"short-lived")
    # Some backends truncate the expiry to whole seconds, so 1s could leave almost nothing on a busy machine.
    get_url = await store.signed_url("signed/short", "GET", timedelta(seconds=3))
    async with http_client(backend) as client:
        assert (await client.get(get_url)).status_code == 200
        # A GET URL must not upload.
        denied = await client.put(get_url, content=b"overwrite", headers=put_headers(backend))
        assert denied.status_code >= 400
        tampered = get_url.replace("signed/short", "signed/other")
        assert (await client.get(tampered)).status_code >= 400
        await asyncio.sleep(3.5)
        expired = await client.get(get_url)
        assert expired.status_code in (400, 403), expired.text
    assert await (await store.get("signed/short")).read() == b"short-lived"


async def test_signing_limits(backend: Backend) -> None:
    with pytest.raises(StorageError):
        await backend.store.signed_url("k", "GET", timedelta(days=8))
    with pytest.raises(StorageError):
        await backend.store.signed_url("k", "GET", timedelta(seconds=0))


# -- a missing bucket is not a missing object --------------------------------------


@pytest.mark.parametrize("backend", ["s3-moto", "s3-rclone", "azure", "gcs"], indirect=True)
async def test_missing_bucket_is_not_a_missing_object(backend: Backend) -> None:
    scheme = backend.settings.url.split("://", 1)[0]
    missing = f"no-such-bucket-{unique_prefix()}"
    store = backend.reopen(url=f"{scheme}://{missing}/p")
    kind = "container" if backend.name == "azure" else "bucket"

    def says_bucket_missing(exc: BaseException) -> None:
        assert not isinstance(exc, ObjectNotFound), f"a missing {kind} was reported as a missing object: {exc}"
        assert isinstance(exc, StorageError)
        text = str(exc)
        assert f"{kind} {missing!r} does not exist" in text, text
        assert backend.settings.endpoint_url in text, text
        lowered = text.lower()  # what `hashigo doctor` matches on for its hint
        assert ("bucket" in lowered and "not exist" in lowered) or "containernotfound" in lowered

    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put("k", b"x"),
        lambda: store.put("k", chunks(b"x" * 10)),
        lambda: store.put("k", b"x", if_absent=True),
        lambda: keys_under(store),
    ]
    if backend.name != "gcs":
        # S3 and Azure name the missing bucket in the 404's body; fake-gcs-server answers a bare
        # 404 "Not Found" to GET and DELETE (real GCS says NoSuchBucket, which the adapter matches).
        calls += [lambda: store.get("k"), lambda: store.delete("k"), lambda: store.copy("k", "j")]
    for call in calls:
        with pytest.raises(StorageError) as caught:
            await call()
        says_bucket_missing(caught.value)
    # A HEAD response has no body, so no backend can tell the two apart there: either answer will do.
    with pytest.raises(StorageError):
        await store.head("k")


# -- outages -------------------------------------------------------------------

FAULT_BACKENDS = ["s3-moto", "s3-rclone", "azure", "gcs"]


@pytest.fixture(params=FAULT_BACKENDS)
def private_server(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A server only this test uses, so it may stop, freeze and restart it."""
    name: str = request.param
    if name == "s3-moto":
        server: Any = start_moto(tmp_path)
        settings = s3_settings(server, "p", timeout_seconds=3, connect_timeout_seconds=1)
    elif name == "s3-rclone":
        server = start_rclone(tmp_path)
        settings = s3_settings(server, "p", timeout_seconds=3, connect_timeout_seconds=1)
    elif name == "azure":
        server = start_azurite(tmp_path)
        settings = azure_settings(server, "p", timeout_seconds=3, connect_timeout_seconds=1)
    else:
        server = start_fake_gcs(tmp_path, on_disk=True)
        settings = gcs_settings(server, "p", timeout_seconds=3, connect_timeout_seconds=1)
    yield name, server, settings
    server.process.stop()


async def put_fixture(server: Any, store: ObjectStore, key: str, data: bytes) -> None:
    """``store.put``, or a JSON-API upload on a GCS emulator without XML uploads (see NO_XML_WRITES)."""
    if isinstance(server, GcsServer) and not server.xml_writes:
        await asyncio.to_thread(seed_gcs_object, server, f"p/{key}", data)
    else:
        await store.put(key, data)


async def expect_unavailable(call: Callable[[], Awaitable[object]], limit: float) -> float:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        await call()
    elapsed = time.monotonic() - started
    assert caught.value.backend.startswith("storage:")
    assert elapsed < limit, f"took {elapsed:.1f}s, over {limit}s"
    return elapsed


@pytest.mark.slow
async def test_server_stopped_then_restarted(private_server: Any) -> None:
    name, server, settings = private_server
    store = open_object_store(settings)
    await put_fixture(server, store, "before", b"written before the outage")
    limit = settings.timeout_seconds + 2
    server.process.stop()
    await expect_unavailable(lambda: store.head("before"), limit)
    await expect_unavailable(lambda: store.get("before"), limit)
    await expect_unavailable(lambda: store.put("during", b"x"), limit)
    await expect_unavailable(lambda: store.put("during", chunks(b"x" * 1000)), limit)
    await expect_unavailable(lambda: keys_under(store), limit)
    await expect_unavailable(lambda: store.delete("before"), limit)
    server.process.start()
    if name == "s3-moto":
        create_bucket(server)  # moto keeps nothing across restarts
        await store.put("before", b"written before the outage")
    assert await (await store.get("before")).read() == b"written before the outage"
    await put_fixture(server, store, "after", b"back")
    assert await keys_under(store) == ["after", "before"]


@pytest.mark.slow
async def test_frozen_server_times_out_then_recovers(private_server: Any) -> None:
    """SIGSTOP: the port still accepts connections but nothing answers, the case that hangs naive clients."""
    _name, server, settings = private_server
    store = open_object_store(settings)
    data = os.urandom(24 * 1024 * 1024)
    await put_fixture(server, store, "big", data)
    stream = await store.get("big")
    iterator = stream.__aiter__()
    first = await iterator.__anext__()
    assert first
    pid = server.process.proc.pid
    os.killpg(pid, signal.SIGSTOP)
    try:
        limit = settings.timeout_seconds + 2

        async def drain() -> None:
            async for _ in iterator:
                pass

        await expect_unavailable(drain, limit)
        await expect_unavailable(lambda: store.head("big"), limit)
        await expect_unavailable(lambda: store.put("frozen", chunks(b"y" * 100)), limit)
    finally:
        os.killpg(pid, signal.SIGCONT)
    assert (await store.head("big")).size == len(data)
    await put_fixture(server, store, "after", b"thawed")
    assert await (await store.get("after")).read() == b"thawed"


async def test_gcs_unreachable_endpoint_is_unavailable(tmp_path: Path) -> None:
    port = free_port()
    service_account = tmp_path / "sa.json"
    service_account.write_text(json.dumps({
        "private_key": "", "private_key_id": "", "client_email": "hashigo@test.invalid",
        "gcs_base_url": f"http://127.0.0.1:{port}", "disable_oauth": True,
    }))
    store = open_object_store(StorageSettings(url="gs://bucket/prefix", gcs_service_account_path=str(service_account),
                                              endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=3,
                                              connect_timeout_seconds=1))
    assert store.url.startswith("gs://bucket/prefix")
    await expect_unavailable(lambda: store.head("x"), 5)
    await expect_unavailable(lambda: store.put("x", b"y"), 5)


async def test_nothing_connects_until_used(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "not-yet"
    local = open_object_store(StorageSettings(url=f"file://{folder}"))
    assert not folder.exists()
    await local.put("k", b"v")
    assert (folder / "k").read_bytes() == b"v"
    remote = open_object_store(StorageSettings(url="s3://bucket", endpoint_url=f"http://127.0.0.1:{port}",
                                               access_key_id="a", secret_access_key="b", timeout_seconds=2,
                                               connect_timeout_seconds=1))
    await expect_unavailable(lambda: remote.head("k"), 4)


# -- multi-gigabyte streaming -------------------------------------------------------

BIG = 2 * 1024**3
BLOCK = 8 * 1024 * 1024


class RssSampler:
    """Peak resident memory of this process while a transfer runs, sampled from /proc."""

    def __init__(self) -> None:
        self.baseline = self.current()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.current())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


async def generated(total: int, digest: Any) -> AsyncIterator[bytes]:
    seed = os.urandom(BLOCK)
    sent = 0
    number = 0
    while sent < total:
        # Each block differs, so a dropped or repeated part changes the digest.
        block = number.to_bytes(8, "big") + seed[8:]
        block = block[: total - sent]
        digest.update(block)
        sent += len(block)
        number += 1
        yield block


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("where", ["local", "s3-rclone"])
async def test_two_gib_stream_keeps_memory_small(where: str, request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:
    if where == "local":
        settings = StorageSettings(url=f"file://{tmp_path}/big")
    else:
        settings = s3_settings(request.getfixturevalue("rclone_server"), unique_prefix())
    store = open_object_store(settings)
    sent = hashlib.sha256()
    started = time.monotonic()
    with RssSampler() as upload:
        info = await store.put("huge.bin", generated(BIG, sent))
    put_seconds = time.monotonic() - started
    assert info.size == BIG
    assert (await store.head("huge.bin")).size == BIG
    received = hashlib.sha256()
    size = 0
    started = time.monotonic()
    with RssSampler() as download:
        async for chunk in await store.get("huge.bin"):
            received.update(chunk)
            size += len(chunk)
    get_seconds = time.monotonic() - started
    assert size == BIG
    assert received.hexdigest() == sent.hexdigest()
    print(f"\n{where}: put {put_seconds:.1f}s (+{upload.growth / 2**20:.0f} MiB RSS), "
          f"get {get_seconds:.1f}s (+{download.growth / 2**20:.0f} MiB RSS)")
    assert upload.growth < 256 * 2**20, f"upload grew RSS by {upload.growth / 2**20:.0f} MiB"
    assert download.growth < 256 * 2**20, f"download grew RSS by {download.growth / 2**20:.0f} MiB"
    await store.delete("huge.bin")
