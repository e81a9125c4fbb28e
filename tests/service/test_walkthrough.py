"""The README's walk, end to end over real HTTP and a real WebSocket, on both profiles.

A new user registers, logs in, creates a session, follows it on a WebSocket, uploads a photo,
sees it listed with a signed URL that works without the token, and receives the event. The two
profiles differ only in the URLs in the environment (see ``profile_environment``).
"""

from __future__ import annotations

import hashlib

import httpx

from tests.harness.service import LiveService
from tests.service.accounts import PASSWORD, new_email
from tests.service.realtime_helpers import expect, opened, subscribe

# A real 1×1 PNG, as a phone would upload a photo (signature, IHDR, IDAT, IEND).
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


async def test_register_login_session_photo_signed_url_and_event(live_service: LiveService) -> None:
    async with httpx.AsyncClient(base_url=live_service.url, timeout=30, trust_env=False) as http:
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()

        email = new_email()
        registered = await http.post("/api/v1/auth/register",
                                     json={"email": email, "password": PASSWORD, "display_name": "Aiko"})
        assert registered.status_code == 201, registered.text
        # The OAuth2 password form, as /docs and curl -d send it.
        tokens = await http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        token = tokens.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        created = await http.post("/api/v1/sessions", headers=auth)
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        socket = await opened(live_service, token, how="query")
        assert await subscribe(socket, session_id) == {"type": "subscribed", "session_id": session_id}

        uploaded = await http.put(f"/api/v1/sessions/{session_id}/files/photos/beach.png", content=PHOTO,
                                  headers={**auth, "Content-Type": "image/png"})
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["size"] == len(PHOTO)

        event = await expect(socket, "file.added", timeout=10)
        assert event["session_id"] == session_id
        assert event["data"]["path"] == "photos/beach.png"
        await socket.close()

        listed = await http.get(f"/api/v1/sessions/{session_id}/files", headers=auth)
        assert listed.status_code == 200, listed.text
        [entry] = listed.json()["items"]
        assert (entry["path"], entry["content_type"]) == ("photos/beach.png", "image/png")

    # The signed URL works on its own: no Authorization header, a fresh client.
    async with httpx.AsyncClient(timeout=30, trust_env=False) as anyone:
        fetched = await anyone.get(entry["url"])
    assert fetched.status_code == 200, fetched.text
    assert hashlib.sha256(fetched.content).digest() == hashlib.sha256(PHOTO).digest()
