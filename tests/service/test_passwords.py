"""Checklist 12–14: argon2id parameters and rehash, the password policy, and login answers
that do not tell unknown accounts from wrong passwords."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from hashigo.service.auth.passwords import MAX_PASSWORD_LENGTH, common_passwords
from hashigo.service.users.models import User
from tests.harness.service import Api
from tests.service.accounts import PASSWORD, login, new_email, register

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


async def stored_hash(api: Api, email: str) -> str:
    async with api.runtime.sessions() as db:
        value: str = (await db.execute(select(User.password_hash).where(User.email == email))).scalar_one()
        return value


async def test_checklist_12_hashes_are_argon2id_with_at_least_owasp_parameters(api: Api) -> None:
    email = new_email()
    await register(api.client, email)
    match = ARGON2.match(await stored_hash(api, email))
    assert match, "not an argon2id hash"
    memory_kib, time_cost, _parallelism = map(int, match.groups())
    assert memory_kib >= 19 * 1024 and time_cost >= 2


async def test_checklist_12_weaker_hash_is_replaced_at_login(api: Api) -> None:
    email = new_email()
    await register(api.client, email)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with api.runtime.sessions() as db:
        await db.execute(update(User).where(User.email == email).values(password_hash=weak))
        await db.commit()
    await login(api.client, email)  # the old hash still verifies
    upgraded = await stored_hash(api, email)
    assert upgraded != weak
    match = ARGON2.match(upgraded)
    assert match and int(match.group(1)) >= 19 * 1024 and int(match.group(2)) >= 2
    await login(api.client, email)  # and the new one too
    assert await stored_hash(api, email) == upgraded  # no rehash when parameters are current


async def register_status(api: Api, password: str) -> tuple[int, str]:
    response = await api.client.post(REGISTER, json={"email": new_email(), "password": password,
                                                     "display_name": "P"})
    return response.status_code, response.text


@pytest.mark.parametrize("password", ["abcdefgh", "x" * 128, "пароль-日本語-🔑", " " * 3 + "spaces ok"])
async def test_checklist_13_lengths_8_to_128_and_any_characters_are_accepted(api: Api, password: str) -> None:
    status, text = await register_status(api, password)
    assert status == 201, text


async def test_checklist_13_too_short_too_long_and_common_are_refused_with_reasons(api: Api) -> None:
    status, text = await register_status(api, "seven77")
    assert status == 422 and "at least 8 characters" in text
    status, text = await register_status(api, "y" * (MAX_PASSWORD_LENGTH + 1))
    assert status == 422 and f"at most {MAX_PASSWORD_LENGTH}" in text
    assert "baseball" in common_passwords() and "password1" in common_passwords()
    for common in ("baseball", "Password1", "QWERTYUIOP"):
        status, text = await register_status(api, common)
        assert status == 422 and "most commonly used" in text, common


async def test_checklist_13_long_passwords_are_never_truncated(api: Api) -> None:
    email = new_email()
    password = "".join(chr(0x61 + i % 26) for i in range(199)) + "Z"  # 200 characters
    await register(api.client, email, password)
    for almost in (password[:-1], password[:-1] + "Y", password[:72], password[:128]):
        response = await api.client.post(LOGIN, json={"email": email, "password": almost})
        assert response.status_code == 401
    await login(api.client, email, password)


async def timed_login(api: Api, email: str, password: str) -> tuple[float, int, dict[str, str]]:
    started = time.perf_counter()
    response = await api.client.post(LOGIN, json={"email": email, "password": password})
    return time.perf_counter() - started, response.status_code, response.json()


async def test_checklist_14_unknown_user_and_wrong_password_look_the_same(api: Api) -> None:
    email = new_email()
    await register(api.client, email)
    await timed_login(api, new_email(), "warm up the dummy hash")
    unknown = [await timed_login(api, new_email(), "some password 1") for _ in range(5)]
    wrong = [await timed_login(api, email, f"wrong password {i}") for i in range(5)]
    assert {(status, tuple(sorted(body.items()))) for _, status, body in unknown + wrong} == {
        (401, (("code", "invalid_credentials"), ("detail", "email or password is incorrect")))}
    unknown_median = statistics.median(t for t, _, _ in unknown)
    wrong_median = statistics.median(t for t, _, _ in wrong)
    assert 1 / 3 < unknown_median / wrong_median < 3, (unknown_median, wrong_median)
