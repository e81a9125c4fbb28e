"""Uploads: size limit while streaming (checklist 19), magic bytes (20), unsafe names (21), downloads (22)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from hashigo.service.kit.errors import ApiError
from hashigo.service.kit.uploads import DEFAULT_ACCEPTED, check_type, detect_type
from hashigo.service.sessions.paths import attachment_disposition
from hashigo.service.sessions.repository import file_key
from tests.harness.objectstores import S3Server
from tests.harness.service import Api, profile_environment, running_api
from tests.service.accounts import signed_in
from tests.service.test_sessions import PNG, new_session

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(300)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
LIMIT = 256 * 1024


class CountingBody:
    """A chunked body that records how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = 16 * 1024, head: bytes = PNG) -> None:
        self.total, self.chunk, self.head, self.pulled = total, chunk, head, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        first = self.head + bytes(self.chunk - len(self.head))
        sent = 0
        while sent < self.total:
            piece = first if sent == 0 else bytes(self.chunk)
            self.pulled += len(piece)
            sent += len(piece)
            yield piece


@pytest.fixture
async def small_limit_api(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api({**service_env, "MAX_UPLOAD_BYTES": str(LIMIT)}, tmp_path) as opened:
        yield opened


def encode_path(name: str) -> str:
    """Every byte but ASCII letters and digits percent-encoded, dots too: the client must not
    resolve '..' itself; the server has to meet it."""
    return "".join(f"%{b:02X}" if not (chr(b).isascii() and chr(b).isalnum()) else chr(b) for b in name.encode())


async def _objects(api: Api, prefix: str = "") -> list[str]:
    return [info.key async for info in api.runtime.storage.list(prefix)]


async def test_chunked_upload_over_the_limit_is_413_before_the_body_is_read(small_limit_api: Api) -> None:
    api = small_limit_api
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    body = CountingBody(total=20 * 1024 * 1024)
    response = await api.client.put(f"/api/v1/sessions/{sid}/files/big.png", content=body.__aiter__(),
                                    headers={**alice.headers, "Content-Type": "image/png"})
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "upload_too_large" and str(LIMIT) in response.json()["detail"]
    assert body.pulled <= LIMIT + 2 * body.chunk < body.total // 10
    assert await _objects(api, f"sessions/{sid}") == []  # the aborted put left nothing
    assert await api.runtime.kv.get(file_key(sid, "big.png")) is None


async def test_content_length_over_the_limit_is_413_before_any_byte(small_limit_api: Api) -> None:
    api = small_limit_api
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    body = CountingBody(total=LIMIT + 1024)
    response = await api.client.put(
        f"/api/v1/sessions/{sid}/files/big.png", content=body.__aiter__(),
        headers={**alice.headers, "Content-Type": "image/png", "Content-Length": str(LIMIT + 1024)})
    assert response.status_code == 413
    assert body.pulled == 0


async def test_a_failed_upload_keeps_the_previous_version(small_limit_api: Api) -> None:
    api = small_limit_api
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    url = f"/api/v1/sessions/{sid}/files/pic.png"
    headers = {**alice.headers, "Content-Type": "image/png"}
    assert (await api.client.put(url, content=PNG, headers=headers)).status_code == 201
    refused = await api.client.put(url, content=CountingBody(total=4 * LIMIT).__aiter__(), headers=headers)
    assert refused.status_code == 413
    again = await api.client.get(url, headers=alice.headers)
    assert again.status_code == 200 and again.content == PNG


async def test_upload_exactly_at_the_limit_is_accepted(small_limit_api: Api) -> None:
    api = small_limit_api
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    data = PNG + bytes(LIMIT - len(PNG))
    response = await api.client.put(f"/api/v1/sessions/{sid}/files/full.png", content=data,
                                    headers={**alice.headers, "Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    assert response.json()["size"] == LIMIT
    download = await api.client.get(f"/api/v1/sessions/{sid}/files/full.png", headers=alice.headers)
    assert download.content == data


@pytest.mark.parametrize(("declared", "data", "detected"), [
    ("image/png", JPEG, "image/jpeg"),
    ("image/png", ELF, None),
    ("image/jpeg", PNG, "image/png"),
    ("application/pdf", PNG, "image/png"),
    ("text/plain", ELF, None),
    ("application/json", b"\xff\xfe\x00\x00binary", None),
])
async def test_declared_type_must_match_magic_bytes(api: Api, declared: str, data: bytes,
                                                    detected: str | None) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    response = await api.client.put(f"/api/v1/sessions/{sid}/files/f.bin", content=data,
                                    headers={**alice.headers, "Content-Type": declared})
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert response.json()["code"] == "content_type_mismatch" and repr(declared) in detail
    if detected is not None:
        assert repr(detected) in detail
    assert "accepted:" in detail
    assert await _objects(api, f"sessions/{sid}") == []


async def test_type_policy_for_types_without_magic(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    base, headers = f"/api/v1/sessions/{sid}/files", alice.headers
    cases = [("notes.txt", "text/plain; charset=utf-8", "こんにちは\n".encode(), 201),
             ("data.json", "application/json", b'{"a": 1}', 201),
             ("blob", "application/octet-stream", ELF, 201),  # claims nothing, stored as is
             ("doc.pdf", "application/pdf", PDF, 201),
             ("photo.JPG", "image/jpg", JPEG, 201),  # alias of image/jpeg
             ("page.html", "text/html", b"<script>alert(1)</script>", 415),
             ("none", "", b"abc", 415)]
    for name, declared, data, status in cases:
        response = await api.client.put(f"{base}/{name}", content=data,
                                        headers={**headers, "Content-Type": declared})
        assert response.status_code == status, (name, response.text)
    listed = (await api.client.get(base, headers=headers)).json()["items"]
    assert {f["path"]: f["content_type"] for f in listed} == {
        "notes.txt": "text/plain", "data.json": "application/json", "blob": "application/octet-stream",
        "doc.pdf": "application/pdf", "photo.JPG": "image/jpeg"}


def test_detection_table() -> None:
    assert detect_type(PNG) == "image/png"
    assert detect_type(JPEG) == "image/jpeg"
    assert detect_type(b"GIF89a" + bytes(20)) == "image/gif"
    assert detect_type(b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20)) == "image/webp"
    assert detect_type(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(20)) == "audio/wav"
    assert detect_type(b"\x00\x00\x00\x1cftypavif" + bytes(20)) == "image/avif"
    assert detect_type(b"hello", complete=True) == "text/plain"
    with pytest.raises(ApiError) as refused:
        check_type("image/webp", b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(20), DEFAULT_ACCEPTED, complete=True)
    assert refused.value.status == 415


UNSAFE_NAMES = ["../../etc/passwd", "/etc/passwd", "a\x00b.png", "line\nbreak.png", "esc\x1b[31m.png",
                ".hidden.png", "a/./b.png", "a//b.png", "..", ".hashigo-meta/x.png", "x.png#1", "tab\there.png"]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
async def test_unsafe_names_stay_inside_the_session_prefix(api: Api, name: str, tmp_path: Path) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    encoded = encode_path(name)
    url = f"/api/v1/sessions/{sid}/files/{encoded}"
    response = await api.client.put(url, content=PNG, headers={**alice.headers, "Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    assert response.json()["path"] == name
    keys = await _objects(api)
    assert len(keys) == 1
    assert re.fullmatch(rf"sessions/{sid}/\.u/[0-9a-f]{{32}}(\.png)?", keys[0]), keys
    listed = (await api.client.get(f"/api/v1/sessions/{sid}/files", headers=alice.headers)).json()["items"]
    assert [f["path"] for f in listed] == [name]
    download = await api.client.get(url, headers=alice.headers)
    assert download.status_code == 200 and download.content == PNG
    assert not (tmp_path / "etc").exists() and not (tmp_path / "data" / "etc").exists()
    assert (await api.client.delete(url, headers=alice.headers)).status_code == 204
    assert await _objects(api) == []


async def test_safe_names_keep_their_own_key(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    headers = {**alice.headers, "Content-Type": "image/png"}
    for name in ["photos/2024/cat.png", "写真.png", "photos/2024"]:
        assert (await api.client.put(f"/api/v1/sessions/{sid}/files/{name}", content=PNG,
                                     headers=headers)).status_code == 201
    keys = set(await _objects(api))
    own = {f"sessions/{sid}/photos/2024/cat.png", f"sessions/{sid}/写真.png"}
    assert own <= keys
    # 'photos/2024' would be a file where a folder is: it goes under a generated key instead.
    (generated,) = keys - own
    assert re.fullmatch(rf"sessions/{sid}/\.u/[0-9a-f]{{32}}", generated)
    listed = (await api.client.get(f"/api/v1/sessions/{sid}/files", headers=alice.headers)).json()["items"]
    assert sorted(f["path"] for f in listed) == ["photos/2024", "photos/2024/cat.png", "写真.png"]


async def test_downloads_are_safe_attachments(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    name = 'evil "name"\r\nSet-Cookie: x=1;写真.png'
    encoded = encode_path(name)
    url = f"/api/v1/sessions/{sid}/files/{encoded}"
    assert (await api.client.put(url, content=PNG, headers={**alice.headers, "Content-Type": "image/png"})
            ).status_code == 201
    response = await api.client.get(url, headers=alice.headers)
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "image/png"
    assert "set-cookie" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and "\r" not in disposition and "\n" not in disposition
    fallback = re.search(r'filename="([^"]*)"', disposition)
    assert fallback is not None and all(0x20 <= ord(c) < 0x7F and c not in '"\\;' for c in fallback.group(1))
    star = re.search(r"filename\*=UTF-8''(\S+)$", disposition)
    assert star is not None and unquote(star.group(1)) == 'evil "name"__Set-Cookie: x=1;写真.png'


def test_disposition_helper() -> None:
    assert attachment_disposition("dir/report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
    assert attachment_disposition("a/") == "attachment; filename=\"download\"; filename*=UTF-8''download"


@pytest.fixture
def servers_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return profile_environment("servers", request, tmp_path)


async def test_s3_multipart_upload_is_aborted_when_the_limit_is_crossed(
        servers_env: dict[str, str], s3_server: S3Server, tmp_path: Path) -> None:
    """Parts already sent to S3 must not linger as an incomplete multipart upload (they are billed)."""
    import boto3

    env = {**servers_env, "MAX_UPLOAD_BYTES": str(12 * 1024 * 1024)}
    async with running_api(env, tmp_path) as api:
        alice = await signed_in(api.client)
        sid = await new_session(api.client, alice)
        body = CountingBody(total=40 * 1024 * 1024, chunk=1024 * 1024)
        response = await api.client.put(f"/api/v1/sessions/{sid}/files/big.png", content=body.__aiter__(),
                                        headers={**alice.headers, "Content-Type": "image/png"})
        assert response.status_code == 413
        assert body.pulled > 8 * 1024 * 1024  # at least one 8 MiB part went to S3 before the refusal
        assert await _objects(api, f"sessions/{sid}") == []
    client = boto3.client("s3", endpoint_url=s3_server.endpoint, aws_access_key_id=s3_server.access_key,
                          aws_secret_access_key=s3_server.secret_key, region_name="us-east-1")
    pending = client.list_multipart_uploads(Bucket=s3_server.bucket,
                                            Prefix=f"service-{tmp_path.name}/sessions/{sid}")
    assert pending.get("Uploads", []) == []
