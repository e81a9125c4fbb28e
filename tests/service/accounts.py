"""Helpers for tests that need a signed-in user: register, log in, auth headers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def new_email() -> str:
    return f"user-{secrets.token_hex(6)}@example.com"


async def register(client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD,
                   display_name: str = "Test User") -> dict[str, object]:
    response = await client.post("/api/v1/auth/register", json={
        "email": email or new_email(), "password": password, "display_name": display_name})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def signed_in(client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD) -> Account:
    """A fresh account, logged in once."""
    email = email or new_email()
    user = await register(client, email, password)
    tokens = await login(client, email, password)
    return Account(email, password, str(user["id"]), tokens["access_token"], tokens["refresh_token"])
