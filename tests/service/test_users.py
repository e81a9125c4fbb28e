"""``/api/v1/users/me``: read, update, delete; avatars (raw and multipart) with size and type
checks (checklist 19 and 20 for avatars), signed or public URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hashigo.storage import ObjectNotFound
from tests.harness.service import Api, running_api
from tests.service.accounts import PASSWORD, Account, login, new_email, register, signed_in

ME = "/api/v1/users/me"
AVATAR = "/api/v1/users/me/avatar"
LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0" + b"\x10JFIF" + bytes(2000)


@pytest.fixture
async def small_api(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api({**service_env, "MAX_AVATAR_BYTES": str(LIMIT)}, tmp_path) as api:
        yield api


async def fetch(api: Api, url: str) -> httpx.Response:
    """Follow an avatar URL: the service's own signed-URL route, or the object store's."""
    parts = urlsplit(url)
    if parts.path.startswith("/api/v1/files/"):
        return await api.client.get(f"{parts.path}?{parts.query}")
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def object_exists(api: Api, key: str) -> bool:
    try:
        await api.runtime.storage.head(key)
    except ObjectNotFound:
        return False
    return True


async def test_get_and_patch_me(api: Api) -> None:
    account = await signed_in(api.client)
    me = (await api.client.get(ME, headers=account.headers)).json()
    assert me["email"] == account.email and me["avatar_url"] is None and me["is_active"] is True
    renamed = await api.client.patch(ME, headers=account.headers, json={"display_name": "Grace"})
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Grace"
    # Timestamps carry their zone on every backend (SQLite hands back naive values otherwise).
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(renamed.json()[stamp]).utcoffset() == timedelta(0), renamed.json()
    bad = await api.client.patch(ME, headers=account.headers, json={"display_name": ""})
    assert bad.status_code == 422
    unknown_field = await api.client.patch(ME, headers=account.headers, json={"is_active": False})
    assert unknown_field.status_code == 422


async def test_email_change_needs_the_current_password(api: Api) -> None:
    account = await signed_in(api.client)
    taken = new_email()
    await register(api.client, taken)
    new = new_email()
    without = await api.client.patch(ME, headers=account.headers, json={"email": new})
    assert without.status_code == 403 and without.json()["code"] == "current_password_required"
    wrong = await api.client.patch(ME, headers=account.headers, json={"email": new, "current_password": "nope"})
    assert wrong.status_code == 403
    clash = await api.client.patch(ME, headers=account.headers, json={"email": taken, "current_password": PASSWORD})
    assert clash.status_code == 409
    changed = await api.client.patch(ME, headers=account.headers, json={"email": new.upper(),
                                                                         "current_password": PASSWORD})
    assert changed.status_code == 200 and changed.json()["email"] == new
    await login(api.client, new)


async def put_avatar(api: Api, account: Account, body: bytes, content_type: str) -> httpx.Response:
    return await api.client.put(AVATAR, content=body, headers={**account.headers, "Content-Type": content_type})


async def test_avatar_raw_upload_is_stored_and_served(api: Api) -> None:
    account = await signed_in(api.client)
    response = await put_avatar(api, account, PNG, "image/png")
    assert response.status_code == 200, response.text
    url = response.json()["avatar_url"]
    served = await fetch(api, url)
    assert served.status_code == 200 and served.content == PNG
    assert await object_exists(api, f"users/{account.user_id}/avatar.png")
    me = (await api.client.get(ME, headers=account.headers)).json()
    assert me["avatar_url"] and urlsplit(me["avatar_url"]).path == urlsplit(url).path
    # A JPEG replaces the PNG; the old object goes.
    replaced = await put_avatar(api, account, JPEG, "image/jpeg")
    assert replaced.status_code == 200
    assert await object_exists(api, f"users/{account.user_id}/avatar.jpg")
    assert not await object_exists(api, f"users/{account.user_id}/avatar.png")


async def test_avatar_multipart_upload(api: Api) -> None:
    account = await signed_in(api.client)
    response = await api.client.post(AVATAR, headers=account.headers,
                                     files={"file": ("me.png", PNG, "image/png")})
    assert response.status_code == 200, response.text
    assert (await fetch(api, response.json()["avatar_url"])).content == PNG
    missing = await api.client.post(AVATAR, headers=account.headers, files={"file2": ("x.png", PNG, "image/png")})
    assert missing.status_code == 400 and missing.json()["code"] == "file_required"
    extra = await api.client.post(AVATAR, headers=account.headers, data={"note": "hi"},
                                  files={"file": ("me.png", PNG, "image/png")})
    assert extra.status_code == 400 and "'note'" in extra.json()["detail"]


async def test_avatar_part_without_a_type_is_judged_by_its_bytes(api: Api) -> None:
    account = await signed_in(api.client)
    untyped = await api.client.post(AVATAR, headers=account.headers, files={"file": ("me", JPEG, "")})
    assert untyped.status_code == 200, untyped.text
    assert await object_exists(api, f"users/{account.user_id}/avatar.jpg")
    generic = await api.client.post(AVATAR, headers=account.headers,
                                    files={"file": ("me", b"plain words, no image", "application/octet-stream")})
    assert generic.status_code == 415 and "accepted" in generic.json()["detail"]


async def test_checklist_20_declared_type_must_match_the_magic_bytes(api: Api) -> None:
    account = await signed_in(api.client)
    mismatch = await put_avatar(api, account, JPEG, "image/png")
    assert mismatch.status_code == 415 and "image/jpeg" in mismatch.json()["detail"]
    html = await put_avatar(api, account, b"<html><script>alert(1)</script></html>", "text/html")
    assert html.status_code == 415
    svg_file = ("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    svg = await api.client.post(AVATAR, headers=account.headers, files={"file": svg_file})
    assert svg.status_code == 415
    assert not await object_exists(api, f"users/{account.user_id}/avatar.png")
    assert (await api.client.get(ME, headers=account.headers)).json()["avatar_url"] is None


class CountingBody:
    """A request body that records how much of it the server pulled."""

    def __init__(self, chunk: bytes, chunks: int) -> None:
        self.chunk, self.chunks, self.sent = chunk, chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += 1
            yield self.chunk


async def test_checklist_19_oversized_avatar_is_413_before_the_body_is_read(small_api: Api) -> None:
    api = small_api
    account = await signed_in(api.client)
    chunk = PNG[:8] + bytes(8 * 1024 - 8)
    # Declared too large: refused before one byte is read.
    declared = CountingBody(chunk, 64)
    response = await api.client.put(AVATAR, content=declared, headers={
        **account.headers, "Content-Type": "image/png", "Content-Length": str(64 * len(chunk))})
    assert response.status_code == 413 and declared.sent == 0
    # Chunked, no length: refused as soon as the limit is crossed, the rest never pulled.
    streamed = CountingBody(chunk, 64)
    response = await api.client.put(AVATAR, content=streamed, headers={**account.headers,
                                                                      "Content-Type": "image/png"})
    assert response.status_code == 413, response.text
    assert streamed.sent <= LIMIT // len(chunk) + 2 < 64
    multipart = await api.client.post(AVATAR, headers=account.headers,
                                      files={"file": ("big.png", PNG[:8] + bytes(LIMIT), "image/png")})
    assert multipart.status_code == 413
    assert not await object_exists(api, f"users/{account.user_id}/avatar.png")
    ok = await put_avatar(api, account, PNG, "image/png")
    assert ok.status_code == 200


async def test_public_files_base_url_gives_plain_urls(service_env: dict[str, str], tmp_path: Path) -> None:
    env = {**service_env, "PUBLIC_FILES_BASE_URL": "https://cdn.example.com/assets/"}
    async with running_api(env, tmp_path) as api:
        account = await signed_in(api.client)
        response = await put_avatar(api, account, PNG, "image/png")
        assert response.json()["avatar_url"] == f"https://cdn.example.com/assets/users/{account.user_id}/avatar.png"


async def test_delete_me_removes_the_avatar_and_the_row(api: Api) -> None:
    account = await signed_in(api.client)
    assert (await put_avatar(api, account, PNG, "image/png")).status_code == 200
    key = f"users/{account.user_id}/avatar.png"
    assert await object_exists(api, key)
    assert (await api.client.delete(ME, headers=account.headers)).status_code == 204
    assert not await object_exists(api, key)
    await register(api.client, account.email)  # the email is free again


async def test_avatar_delete(api: Api) -> None:
    account = await signed_in(api.client)
    assert (await put_avatar(api, account, PNG, "image/png")).status_code == 200
    assert (await api.client.delete(AVATAR, headers=account.headers)).status_code == 204
    assert not await object_exists(api, f"users/{account.user_id}/avatar.png")
    assert (await api.client.get(ME, headers=account.headers)).json()["avatar_url"] is None
