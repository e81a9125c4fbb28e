"""Signed download URLs (checklist 23): local/memory stores through /api/v1/files, S3 natively."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from hashigo.storage.signing import sign_local_url
from tests.harness.service import Api
from tests.service.accounts import signed_in
from tests.service.test_sessions import PNG, new_session


def _local(url: str) -> str:
    """The path and query of a signed URL: the in-process client has its own host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


async def _uploaded(api: Api, *names: str) -> dict[str, str]:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    for name in names:
        response = await api.client.put(f"/api/v1/sessions/{sid}/files/{name}", content=PNG,
                                        headers={**alice.headers, "Content-Type": "image/png"})
        assert response.status_code == 201, response.text
    listed = await api.client.get(f"/api/v1/sessions/{sid}/files", headers=alice.headers)
    return {f["path"]: f["url"] for f in listed.json()["items"]}


def _self_signed(api: Api) -> bool:
    return api.runtime.settings.storage.url.startswith(("file://", "memory://"))


async def test_listed_signed_url_downloads_the_file(api: Api) -> None:
    urls = await _uploaded(api, "photo.png")
    url = urls["photo.png"]
    if _self_signed(api):
        assert url.startswith(api.runtime.settings.storage.public_base_url + "/sessions/")
        response = await api.client.get(_local(url))  # no Authorization: the signature is the grant
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith('attachment; filename="photo.png"')
    else:
        async with httpx.AsyncClient() as outside:  # S3 serves its own presigned URL
            response = await outside.get(url)
    assert response.status_code == 200, response.text
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"


async def test_altered_signed_urls_are_403(api: Api) -> None:
    urls = await _uploaded(api, "a.png", "b.png")
    if not _self_signed(api):
        served_here = await api.client.get(_local(urls["a.png"]).replace("/", "/api/v1/files/", 1))
        assert served_here.status_code == 404 and served_here.json()["code"] == "not_served_here"
        return
    good = urls["a.png"]
    signature = parse_qs(urlsplit(good).query)["signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    expires = int(parse_qs(urlsplit(good).query)["expires"][0])
    other_path = _local(good).replace("/a.png?", "/b.png?")
    attempts = {
        "signature": _with(good, signature=flipped),
        "path": other_path,
        "expiry": _with(good, expires=str(expires + 3600)),
        "method": _with(good, method="PUT"),
        "missing signature": _local(good).split("&signature=")[0],
    }
    for what, url in attempts.items():
        response = await api.client.get(url)
        assert response.status_code == 403, (what, response.text)
        assert response.json()["code"] == "invalid_signature"
        assert PNG not in response.content
    assert (await api.client.get(_local(good))).status_code == 200


async def test_expired_signed_url_is_403(api: Api) -> None:
    urls = await _uploaded(api, "old.png")
    if not _self_signed(api):  # S3 checks its own expiry (moto does not): the URL must carry it
        query = parse_qs(urlsplit(urls["old.png"]).query)
        assert query["X-Amz-Expires"] == [str(api.runtime.settings.service.signed_url_seconds)]
        return
    settings = api.runtime.settings.storage
    key = urlsplit(urls["old.png"]).path.split("/api/v1/files/", 1)[1]
    expired = sign_local_url(settings.public_base_url, key, "GET", timedelta(seconds=30),
                             settings.signing_secret.get_secret_value(), now=time.time() - 60)
    response = await api.client.get(_local(expired))
    assert response.status_code == 403 and "expired" in response.json()["detail"]
    fresh = sign_local_url(settings.public_base_url, key, "GET", timedelta(seconds=30),
                           settings.signing_secret.get_secret_value())
    assert (await api.client.get(_local(fresh))).status_code == 200


async def test_a_url_signed_with_another_secret_is_403(api: Api) -> None:
    urls = await _uploaded(api, "x.png")
    if not _self_signed(api):  # nothing is served under /api/v1/files for a store that signs its own
        forged = f"/api/v1/files/sessions/x.png?method=GET&expires={int(time.time()) + 60}&signature=00"
        assert (await api.client.get(forged)).status_code == 404
        return
    settings = api.runtime.settings.storage
    key = urlsplit(urls["x.png"]).path.split("/api/v1/files/", 1)[1]
    forged = sign_local_url(settings.public_base_url, key, "GET", timedelta(minutes=5), "not-the-secret")
    assert (await api.client.get(_local(forged))).status_code == 403
