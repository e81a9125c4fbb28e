"""Checklist 15: repeated login failures per account and per client address → 429 with
``Retry-After``; the lock ends with its window even while an attacker keeps trying."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.harness.service import Api, running_api
from tests.service.accounts import PASSWORD, new_email, register

LOGIN = "/api/v1/auth/login"
WINDOW = 3


@pytest.fixture
async def limited_api(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Api]:
    env = {**service_env, "LOGIN_FAILURES_PER_ACCOUNT": "3", "LOGIN_FAILURES_PER_ADDRESS": "4",
           "LOGIN_WINDOW_SECONDS": str(WINDOW)}
    async with running_api(env, tmp_path) as api:
        yield api


def client_from(api: Api, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app, client=(address, 40000)),
                             base_url="http://testserver")


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


def assert_locked(response: httpx.Response, what: str) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "too_many_attempts" and what in response.json()["detail"]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    return retry_after


async def test_checklist_15_failures_per_account_lock_it_for_one_window(limited_api: Api) -> None:
    api = limited_api
    email = new_email()
    await register(api.client, email)
    for i in range(3):
        assert (await attempt(api.client, email, f"wrong guess {i}")).status_code == 401
    # Even the right password is refused now, from this address and from any other.
    retry_after = assert_locked(await attempt(api.client, email, PASSWORD), "this account")
    async with client_from(api, "198.51.100.7") as elsewhere:
        assert_locked(await attempt(elsewhere, email, PASSWORD), "this account")
        for i in range(3):  # the attacker keeps going; refused attempts do not extend the lock
            assert_locked(await attempt(elsewhere, email, f"more guesses {i}"), "this account")
    await asyncio.sleep(retry_after + 0.3)
    assert (await attempt(api.client, email, PASSWORD)).status_code == 200


async def test_checklist_15_failures_per_address_lock_that_address_only(limited_api: Api) -> None:
    api = limited_api
    email = new_email()
    await register(api.client, email)
    async with client_from(api, "203.0.113.9") as attacker, client_from(api, "192.0.2.44") as victim:
        for i in range(4):  # one guess each at four accounts: no account limit is reached
            assert (await attempt(attacker, new_email(), f"guess number {i}")).status_code == 401
        retry_after = assert_locked(await attempt(attacker, email, PASSWORD), "this address")
        assert (await attempt(victim, email, PASSWORD)).status_code == 200
        await asyncio.sleep(retry_after + 0.3)
        assert (await attempt(attacker, email, PASSWORD)).status_code == 200


async def test_successful_login_clears_the_account_count(limited_api: Api) -> None:
    api = limited_api
    email = new_email()
    await register(api.client, email)
    for round_ in range(2):  # 4 failures in all, over the limit of 3 had they not been cleared
        async with client_from(api, f"192.0.2.{round_ + 1}") as client:  # each address stays under its limit
            for i in range(2):
                assert (await attempt(client, email, f"typo {round_}{i}")).status_code == 401
            assert (await attempt(client, email, PASSWORD)).status_code == 200
