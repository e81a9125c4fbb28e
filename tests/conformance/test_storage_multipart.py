"""Resumable multipart uploads (``hashigo.storage.multipart``), on every store that offers them.

Local folder and S3 (moto, rclone serve s3) offer them; memory, Azure and GCS say they do not,
and callers fall back to streamed ``put``. The upload id must outlive the store object (and so
the process): a second store object opened from the same settings finishes the upload.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hashigo.errors import BackendUnavailable
from hashigo.settings import StorageSettings
from hashigo.storage import InvalidKey, InvalidMetadata, ObjectStore, StorageError, open_object_store
from hashigo.storage.multipart import ResumableUploads, UploadedPart, UploadNotFound, resumable_uploads
from tests.conformance.test_storage import azure_settings, gcs_settings, s3_settings
from tests.harness.objectstores import unique_prefix

MIB = 1024 * 1024
PART = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(5 * MIB // 32))  # 5 MiB, S3's minimum
TAIL = b"the last part may be short"


@pytest.fixture(params=["local", "s3-moto", "s3-rclone"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    if request.param == "local":
        return StorageSettings(url=f"file://{tmp_path}/store")
    server = request.getfixturevalue("s3_server" if request.param == "s3-moto" else "rclone_server")
    return s3_settings(server, unique_prefix(), timeout_seconds=20)


def gone_errors(settings: StorageSettings) -> tuple[type[Exception], ...]:
    """What a call on an unknown or aborted upload raises. moto answers 500 where S3 says NoSuchUpload."""
    return (UploadNotFound, BackendUnavailable) if "hashigo-moto" in settings.url else (UploadNotFound,)


def uploads_of(store: ObjectStore) -> ResumableUploads:
    uploads = resumable_uploads(store)
    assert uploads is not None
    return uploads


async def test_upload_survives_the_store_that_started_it(settings: StorageSettings) -> None:
    key = "videos/日本語 ファイル/clip (1).bin"
    first = open_object_store(settings)
    uploads = uploads_of(first)
    upload_id = await uploads.create(key, content_type="video/mp4", cache_control="max-age=60",
                                     content_disposition="inline", metadata={"owner": "ユーザー"})
    one = await uploads.put_part(key, upload_id, 1, PART, md5=hashlib.md5(PART).digest())
    await first.close()  # as if the process died here; only the id and part 1's ETag were kept

    second = open_object_store(settings)
    again = uploads_of(second)
    two = await again.put_part(key, upload_id, 2, memoryview(TAIL))
    completed = await again.complete(key, upload_id, [two, UploadedPart(1, one.etag)])

    stream = await second.get(key)
    assert await stream.read() == PART + TAIL
    assert (stream.info.content_type, stream.info.cache_control, stream.info.content_disposition,
            dict(stream.info.metadata)) == ("video/mp4", "max-age=60", "inline", {"owner": "ユーザー"})
    if settings.url.startswith("s3://"):
        assert one.etag == hashlib.md5(PART).hexdigest()  # S3: a part's ETag is the MD5 of what arrived
        parts_md5 = hashlib.md5(hashlib.md5(PART).digest() + hashlib.md5(TAIL).digest()).hexdigest()
        assert completed.etag == f"{parts_md5}-2"
    assert [info.key async for info in second.list()] == [key]  # no upload leftovers are listed
    await second.close()


async def test_parts_can_be_replaced_and_uploads_aborted(settings: StorageSettings) -> None:
    store = open_object_store(settings)
    uploads = uploads_of(store)
    upload_id = await uploads.create("a.bin")
    # Sent again after a crash that lost its record: the same bytes again. (rclone serve s3 streams parts
    # to disk in order and refuses other bytes for a part it has written; a resumed copy never sends them.)
    await uploads.put_part("a.bin", upload_id, 1, PART)
    replaced = await uploads.put_part("a.bin", upload_id, 1, PART)
    last = await uploads.put_part("a.bin", upload_id, 2, TAIL)
    await uploads.complete("a.bin", upload_id, [replaced, last])
    assert await (await store.get("a.bin")).read() == PART + TAIL

    doomed = await uploads.create("b.bin")
    await uploads.put_part("b.bin", doomed, 1, TAIL)
    await uploads.abort("b.bin", doomed)
    with pytest.raises(gone_errors(settings)):
        await uploads.put_part("b.bin", doomed, 2, TAIL)
    await uploads.abort("b.bin", doomed)  # twice is fine
    assert [info.key async for info in store.list()] == ["a.bin"]
    await store.close()


async def test_rejected_input(settings: StorageSettings) -> None:
    store = open_object_store(settings)
    uploads = uploads_of(store)
    with pytest.raises(InvalidKey):
        await uploads.create("../escape")
    with pytest.raises(InvalidMetadata):
        await uploads.create("ok.bin", metadata={"Bad-Name": "x"})
    upload_id = await uploads.create("ok.bin")
    with pytest.raises(StorageError, match="part number"):
        await uploads.put_part("ok.bin", upload_id, 0, TAIL)
    await uploads.abort("ok.bin", upload_id)
    with pytest.raises(gone_errors(settings)):
        await uploads.put_part("ok.bin", "not-an-upload-id", 1, TAIL)
    await store.close()


@pytest.mark.parametrize("backend", ["memory", "azure", "gcs"])
def test_other_stores_offer_none(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "memory":
        settings = StorageSettings(url="memory://")
    elif backend == "azure":
        settings = azure_settings(request.getfixturevalue("azure_server"), unique_prefix())
    else:
        settings = gcs_settings(request.getfixturevalue("gcs_server"), unique_prefix())
    assert resumable_uploads(open_object_store(settings)) is None
