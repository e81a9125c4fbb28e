"""A user with a session on a running `hashigo serve`, and load from a background thread: what
`hashigo check` measures in the live tests."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

PASSWORD = "correct horse battery staple"
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")


@dataclass
class User:
    token: str
    session_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(base_url: str) -> User:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        email = f"load-{uuid.uuid4().hex[:10]}@example.com"
        registered = await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                                     "display_name": "Aiko"})
        assert registered.status_code == 201, registered.text
        login = await http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        user = User(login.json()["access_token"], "")
        created = await http.post("/api/v1/sessions", headers=user.headers)
        assert created.status_code == 201, created.text
        user.session_id = created.json()["id"]
        meta = await http.put(f"/api/v1/sessions/{user.session_id}/meta/user_profile", headers=user.headers,
                              json={"name": "Aiko"})
        assert meta.status_code == 200, meta.text
        photo = await http.put(f"/api/v1/sessions/{user.session_id}/files/photo.png", content=PHOTO,
                               headers={**user.headers, "Content-Type": "image/png"})
        assert photo.status_code == 201, photo.text
    return user


@dataclass
class Load:
    """`workers` clients, each sending the paths in turn, until stopped; counts status codes."""

    base_url: str
    user: User
    paths: tuple[str, ...]
    workers: int = 2
    statuses: Counter[int] = field(default_factory=Counter)
    slowest: float = 0.0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _worker(self, http: httpx.AsyncClient) -> None:
        index = 0
        while not self._stop.is_set():
            path = self.paths[index % len(self.paths)].format(session=self.user.session_id)
            index += 1
            started = time.monotonic()
            try:
                response = await http.get(path, headers=self.user.headers)
                self.statuses[response.status_code] += 1
            except httpx.HTTPError:
                self.statuses[0] += 1
            self.slowest = max(self.slowest, time.monotonic() - started)

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, trust_env=False) as http:
            await asyncio.gather(*(self._worker(http) for _ in range(self.workers)))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)
