"""Sessions over HTTP on both profiles: create/list/delete, metadata, TTL, ownership, files, events."""

from __future__ import annotations

import asyncio
import json
import math

import httpx

from hashigo.service.realtime.events import session_channel
from hashigo.service.sessions.repository import (
    file_key,
    index_key,
    is_session_id,
    meta_key,
    owner_key,
    session_owner,
)
from tests.harness.service import Api
from tests.service.accounts import Account, signed_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


async def new_session(client: httpx.AsyncClient, account: Account) -> str:
    response = await client.post("/api/v1/sessions", headers=account.headers)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def test_create_list_get_delete(api: Api) -> None:
    alice = await signed_in(api.client)
    created = await api.client.post("/api/v1/sessions", headers=alice.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert is_session_id(body["id"]) and body["expires_in"] == api.runtime.settings.sessions.ttl_seconds
    second = await new_session(api.client, alice)
    listed = await api.client.get("/api/v1/sessions", headers=alice.headers)
    assert [s["id"] for s in listed.json()["items"]] == [body["id"], second]
    detail = await api.client.get(f"/api/v1/sessions/{body['id']}", headers=alice.headers)
    assert detail.status_code == 200 and detail.json()["fields"] == [] and detail.json()["files"] == 0
    assert await session_owner(api.runtime.kv, body["id"]) == alice.user_id
    deleted = await api.client.delete(f"/api/v1/sessions/{body['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    assert (await api.client.get(f"/api/v1/sessions/{body['id']}", headers=alice.headers)).status_code == 404
    assert await session_owner(api.runtime.kv, body["id"]) is None
    assert [k async for k in api.runtime.kv.scan(f"session:{body['id']}:")] == []
    assert await api.runtime.kv.get(index_key(alice.user_id, body["id"])) is None


async def test_session_ids_are_128_bit_and_distinct(api: Api) -> None:
    alice = await signed_in(api.client)
    ids = {await new_session(api.client, alice) for _ in range(20)}
    assert len(ids) == 20
    # 22 URL-safe base64 characters = 132 bits of which token_urlsafe(16) fills 128 from the CSPRNG.
    assert all(len(i) == 22 and is_session_id(i) for i in ids)


async def test_metadata_put_get_delete(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    profile = {"name": "花子", "age": 30, "tags": ["a", "b"]}
    put = await api.client.put(f"/api/v1/sessions/{sid}/meta/user_profile", json=profile, headers=alice.headers)
    assert put.status_code == 200, put.text
    assert json.loads((await api.runtime.kv.get(meta_key(sid, "user_profile"))) or b"null") == profile
    got = await api.client.get(f"/api/v1/sessions/{sid}/meta/user_profile", headers=alice.headers)
    assert got.json() == {"field": "user_profile", "value": profile}
    detail = await api.client.get(f"/api/v1/sessions/{sid}", headers=alice.headers)
    assert detail.json()["fields"] == ["user_profile"]
    gone = await api.client.delete(f"/api/v1/sessions/{sid}/meta/user_profile", headers=alice.headers)
    assert gone.status_code == 204
    missing = await api.client.get(f"/api/v1/sessions/{sid}/meta/user_profile", headers=alice.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "field_not_found"


async def test_metadata_bad_input_is_a_clear_4xx(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    base = f"/api/v1/sessions/{sid}/meta"
    bad_name = await api.client.put(f"{base}/bad:name", json=1, headers=alice.headers)
    assert bad_name.status_code == 422 and "A-Za-z0-9_.-" in bad_name.text
    reserved = await api.client.put(f"{base}/file", json=1, headers=alice.headers)
    assert reserved.status_code == 400 and reserved.json()["code"] == "reserved_field"
    not_json = await api.client.put(f"{base}/x", content=b"{nope", headers={**alice.headers,
                                                                           "Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["code"] == "invalid_json"
    too_big = await api.client.put(f"{base}/x", json="a" * (65 * 1024), headers=alice.headers)
    assert too_big.status_code == 413
    wrong_type = await api.client.put(f"{base}/x", content=b"1", headers={**alice.headers,
                                                                         "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


async def test_ttl_set_on_every_key_and_refreshed_by_activity(api: Api) -> None:
    kv, ttl = api.runtime.kv, api.runtime.settings.sessions.ttl_seconds
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    await api.client.put(f"/api/v1/sessions/{sid}/meta/conversation", json=[1], headers=alice.headers)
    up = await api.client.put(f"/api/v1/sessions/{sid}/files/a.png", content=PNG,
                              headers={**alice.headers, "Content-Type": "image/png"})
    assert up.status_code == 201, up.text
    keys = [owner_key(sid), meta_key(sid, "conversation"), file_key(sid, "a.png"), index_key(alice.user_id, sid)]
    for key in keys:
        remaining = await kv.ttl(key)
        assert remaining is not None and remaining != math.inf and ttl - 30 < remaining <= ttl, (key, remaining)
    for key in keys:  # as if the session had been idle for most of its TTL
        assert await kv.expire(key, 5)
    read = await api.client.get(f"/api/v1/sessions/{sid}/meta/conversation", headers=alice.headers)
    assert read.status_code == 200
    for key in keys:
        remaining = await kv.ttl(key)
        assert remaining is not None and remaining > ttl - 30, (key, remaining)


async def test_another_users_session_is_404_everywhere(api: Api) -> None:
    alice, bob = await signed_in(api.client), await signed_in(api.client)
    sid = await new_session(api.client, alice)
    await api.client.put(f"/api/v1/sessions/{sid}/meta/m", json=1, headers=alice.headers)
    await api.client.put(f"/api/v1/sessions/{sid}/files/a.png", content=PNG,
                         headers={**alice.headers, "Content-Type": "image/png"})
    base = f"/api/v1/sessions/{sid}"
    attempts = [("GET", base), ("DELETE", base), ("GET", f"{base}/meta/m"), ("PUT", f"{base}/meta/m"),
                ("DELETE", f"{base}/meta/m"), ("GET", f"{base}/files"), ("GET", f"{base}/files/a.png"),
                ("PUT", f"{base}/files/b.png"), ("DELETE", f"{base}/files/a.png")]
    unknown = await api.client.get("/api/v1/sessions/AAAAAAAAAAAAAAAAAAAAAA", headers=bob.headers)
    for method, url in attempts:
        response = await api.client.request(method, url, headers={**bob.headers, "Content-Type": "image/png"},
                                            content=PNG if method == "PUT" else None)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["code"] == unknown.json()["code"] == "session_not_found"
    assert [s["id"] for s in (await api.client.get("/api/v1/sessions", headers=bob.headers)).json()["items"]] == []
    # Nothing changed for alice.
    assert (await api.client.get(f"{base}/files/a.png", headers=alice.headers)).content == PNG
    assert (await api.client.get(f"{base}/meta/m", headers=alice.headers)).json()["value"] == 1


async def test_unauthenticated_calls_are_401(api: Api) -> None:
    for method, url in [("POST", "/api/v1/sessions"), ("GET", "/api/v1/sessions"),
                        ("GET", "/api/v1/sessions/AAAAAAAAAAAAAAAAAAAAAA/files")]:
        response = await api.client.request(method, url)
        assert response.status_code == 401, (method, url)


async def test_events_are_published_for_every_change(api: Api) -> None:
    alice = await signed_in(api.client)
    sid = await new_session(api.client, alice)
    subscription = await api.runtime.pubsub.subscription()
    await subscription.subscribe(session_channel(sid))
    received: list[dict[str, object]] = []

    async def collect() -> None:
        async for message in subscription:
            received.append(json.loads(message.data))
            if received[-1]["type"] == "session.deleted":
                return

    task = asyncio.create_task(collect())
    headers = {**alice.headers, "Content-Type": "image/png"}
    await api.client.put(f"/api/v1/sessions/{sid}/meta/m", json=1, headers=alice.headers)
    await api.client.put(f"/api/v1/sessions/{sid}/files/a.png", content=PNG, headers=headers)
    await api.client.delete(f"/api/v1/sessions/{sid}/files/a.png", headers=alice.headers)
    await api.client.delete(f"/api/v1/sessions/{sid}", headers=alice.headers)
    await asyncio.wait_for(task, 10)
    await subscription.close()
    assert [e["type"] for e in received] == ["meta.changed", "file.added", "file.removed", "session.deleted"]
    assert received[1]["data"] == {"path": "a.png", "size": len(PNG), "content_type": "image/png"}
