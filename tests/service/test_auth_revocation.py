"""Checklist 9–11: logout, password change, disabling and refresh reuse end tokens — and tell
WebSockets so (``auth.revoked`` on the user's channel). Also: a database that cannot be asked
is a 503, never a pass."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from hashigo.runtime import Runtime
from hashigo.service.app import create_app
from hashigo.service.auth.codec import codec_for
from hashigo.service.realtime.events import user_channel
from hashigo.settings import load_settings
from tests.harness.base import free_port
from tests.harness.service import Api
from tests.service.accounts import PASSWORD, Account, login, signed_in

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"


async def me_status(api: Api, access_token: str) -> int:
    response = await api.client.get(ME, headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def refresh_status(api: Api, refresh_token: str) -> int:
    return (await api.client.post(REFRESH, json={"refresh_token": refresh_token})).status_code


@asynccontextmanager
async def revocations(api: Api, user_id: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Collects the ``auth.revoked`` events published for ``user_id`` while the block runs."""
    received: list[dict[str, Any]] = []
    subscription = await api.runtime.pubsub.subscription()
    await subscription.subscribe(user_channel(user_id))

    async def listen() -> None:
        async for message in subscription:
            received.append(json.loads(message.data))

    task = asyncio.create_task(listen())
    try:
        yield received
        for _ in range(50):  # delivery is asynchronous: wait up to 5 s for it
            if received:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await subscription.close()


async def test_checklist_09_logout_rejects_the_old_access_and_refresh_tokens(api: Api) -> None:
    account = await signed_in(api.client)
    other = await login(api.client, account.email)  # a second login of the same user survives
    async with revocations(api, account.user_id) as events:
        response = await api.client.post("/api/v1/auth/logout", headers=account.headers)
        assert response.status_code == 204
    assert await me_status(api, account.access_token) == 401
    assert await refresh_status(api, account.refresh_token) == 401
    assert await me_status(api, other["access_token"]) == 200
    family = json.loads(json.dumps(events[0]))
    assert family["type"] == "auth.revoked" and family["data"]["family_id"]


async def test_checklist_09_password_change_rejects_every_old_token(api: Api) -> None:
    account = await signed_in(api.client)
    other = await login(api.client, account.email)
    new_password = "a different passphrase 42"
    wrong = await api.client.post("/api/v1/auth/password", headers=account.headers,
                                  json={"current_password": "not the password", "new_password": new_password})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    async with revocations(api, account.user_id) as events:
        changed = await api.client.post("/api/v1/auth/password", headers=account.headers,
                                        json={"current_password": PASSWORD, "new_password": new_password})
        assert changed.status_code == 200, changed.text
    for old in (account, other):
        access = old.access_token if isinstance(old, Account) else old["access_token"]
        refresh = old.refresh_token if isinstance(old, Account) else old["refresh_token"]
        assert await me_status(api, access) == 401
        assert await refresh_status(api, refresh) == 401
    assert await me_status(api, changed.json()["access_token"]) == 200  # the new login works
    assert events[0]["data"] == {"family_id": None}
    refused = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert refused.status_code == 401
    await login(api.client, account.email, new_password)


async def test_checklist_10_disabling_ends_all_sessions_and_tokens(api: Api) -> None:
    account = await signed_in(api.client)
    other = await login(api.client, account.email)
    async with revocations(api, account.user_id) as events:
        response = await api.client.post("/api/v1/users/me/disable", headers=account.headers)
        assert response.status_code == 204
    for access, refresh in ((account.access_token, account.refresh_token),
                            (other["access_token"], other["refresh_token"])):
        assert await me_status(api, access) == 401
        assert await refresh_status(api, refresh) == 401
    again = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert again.status_code == 401
    assert events and events[0]["type"] == "auth.revoked"


async def test_checklist_11_reused_refresh_token_revokes_the_whole_family(api: Api) -> None:
    account = await signed_in(api.client)
    rotated = (await api.client.post(REFRESH, json={"refresh_token": account.refresh_token})).json()
    assert await me_status(api, rotated["access_token"]) == 200
    async with revocations(api, account.user_id) as events:
        reuse = await api.client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert reuse.status_code == 401 and reuse.json()["code"] == "refresh_token_reused"
    # The thief's replay also ends the legitimate holder's newer tokens of that family.
    assert await refresh_status(api, rotated["refresh_token"]) == 401
    assert await me_status(api, rotated["access_token"]) == 401
    assert events and events[0]["data"]["family_id"]
    # Other logins of the user are not affected.
    assert await me_status(api, (await login(api.client, account.email))["access_token"]) == 200


async def test_concurrent_refreshes_with_one_token_leave_at_most_one_winner(api: Api) -> None:
    account = await signed_in(api.client)
    results = await asyncio.gather(*(api.client.post(REFRESH, json={"refresh_token": account.refresh_token})
                                     for _ in range(4)))
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) <= 1
    assert all(r.status_code in {200, 401} for r in results)


async def test_deleting_the_account_ends_its_tokens(api: Api) -> None:
    account = await signed_in(api.client)
    response = await api.client.delete(ME, headers=account.headers)
    assert response.status_code == 204
    assert await me_status(api, account.access_token) == 401
    assert await refresh_status(api, account.refresh_token) == 401
    gone = await api.client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert gone.status_code == 401


async def test_database_down_is_503_with_retry_after_never_a_pass(tmp_path: Path) -> None:
    dead = f"postgresql+asyncpg://hashigo:hashigo@127.0.0.1:{free_port()}/hashigo"
    settings = load_settings({"HASHIGO_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-secret-" + "k" * 40,
                              "DATABASE_URL": dead, "DATABASE_CONNECT_TIMEOUT": "2"}, env_file=None, cwd=tmp_path)
    runtime = Runtime.open(settings)
    app = create_app(runtime=runtime)
    codec = codec_for(settings)
    token = codec.issue("access", "0" * 32, "1" * 32).token  # well signed; the database must still be asked
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            me = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 503, me.text
            assert int(me.headers["retry-after"]) >= 1
            logged_in = await client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x"})
            assert logged_in.status_code == 503
    finally:
        await runtime.aclose()
