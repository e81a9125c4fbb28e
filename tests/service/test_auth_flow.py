"""Register, log in (JSON and OAuth2 form), refresh, log out, change password — over HTTP, both profiles."""

from __future__ import annotations

from tests.harness.service import Api
from tests.service.accounts import PASSWORD, login, new_email, register, signed_in


async def test_register_login_and_me(api: Api) -> None:
    email = new_email()
    user = await register(api.client, email.upper(), display_name="Ada")
    assert user["email"] == email  # stored lower-case
    assert user["display_name"] == "Ada" and user["avatar_url"] is None and "password_hash" not in user
    tokens = await login(api.client, email)
    assert tokens["token_type"] == "bearer" and 0 < int(tokens["expires_in"]) <= 900
    me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]


async def test_login_accepts_the_oauth2_password_form(api: Api) -> None:
    email = new_email()
    await register(api.client, email)
    response = await api.client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD,
                                                                 "grant_type": "password"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}


async def test_duplicate_email_is_409(api: Api) -> None:
    email = new_email()
    await register(api.client, email)
    again = await api.client.post("/api/v1/auth/register", json={
        "email": email.upper(), "password": PASSWORD, "display_name": "x"})
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"


async def test_no_token_is_401_with_bearer_challenge(api: Api) -> None:
    response = await api.client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "invalid_token"


async def test_refresh_rotates(api: Api) -> None:
    account = await signed_in(api.client)
    first = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["refresh_token"] != account.refresh_token
    me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    second = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert second.status_code == 200, second.text


async def test_login_bad_input_is_a_clear_4xx(api: Api) -> None:
    login_url = "/api/v1/auth/login"
    plain = await api.client.post(login_url, content=b"user:pass", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/x-www-form-urlencoded" in plain.json()["detail"]
    huge = await api.client.post(login_url, json={"email": "a@example.com", "password": "p" * 20_000})
    assert huge.status_code == 413
    bodies: list[object] = [{"email": "a@example.com"}, {"email": "not-an-email", "password": "x"}, []]
    for body in bodies:
        response = await api.client.post(login_url, json=body)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], list)
    broken = await api.client.post(login_url, content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422
    form = await api.client.post(login_url, data={"username": "a@example.com"})
    assert form.status_code == 422


async def test_register_refuses_bad_email_and_extra_fields(api: Api) -> None:
    for body in ({"email": "no-at-sign", "password": PASSWORD, "display_name": "x"},
                 {"email": new_email(), "password": PASSWORD, "display_name": "x", "is_active": False},
                 {"email": new_email(), "password": PASSWORD, "display_name": ""}):
        response = await api.client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 422, body


async def test_wrong_method_lists_every_allowed_method(api: Api) -> None:
    response = await api.client.put("/api/v1/users/me")
    assert response.status_code == 405 and response.json()["code"] == "http_405"
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in response.headers["allow"].split(",")}
