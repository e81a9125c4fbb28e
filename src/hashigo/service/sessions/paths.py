"""Where a session file's bytes go: ``sessions/{id}/{path}``, or a server-made key when the name is unsafe.

A name is stored as its own key only when it passes the store's key policy
(``hashigo.storage.keys.validate_key``) and a stricter rule of ours: no segment starting with
'.' (no '..', no hidden files, no '.hashigo'), no control characters, no leading '/'. Anything
else — ``../../etc/passwd``, ``/abs``, NUL, newlines — is kept under
``sessions/{id}/.u/<128-bit hex><safe extension>`` while the record keeps the user's name.
User names cannot start a segment with '.', so they never collide with the ``.u/`` keys, and
no key ever leaves ``sessions/{id}/``.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from hashigo.service.kit.errors import ApiError
from hashigo.service.sessions.repository import object_prefix
from hashigo.storage.keys import validate_key
from hashigo.storage.protocol import InvalidKey

MAX_PATH_BYTES = 512
"""A record's name; with ``sessions/{id}/`` it stays well inside every store's 1024-byte keys."""
GENERATED_FOLDER = ".u"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_UNSAFE_IN_FALLBACK = re.compile(r'[^\x20-\x7e]|["\\;%]')


def check_path(path: str) -> str:
    """A file name the API accepts at all (it may still be stored under a generated key)."""
    if not path:
        raise ApiError(400, "invalid_path", "the file path is empty; give a name such as 'photos/cat.jpg'")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise ApiError(400, "invalid_path", "the file path is not valid Unicode") from None
    if size > MAX_PATH_BYTES:
        raise ApiError(400, "invalid_path",
                       f"the file path is {size} bytes in UTF-8; accepted: 1 to {MAX_PATH_BYTES} bytes")
    return path


def is_safe_path(path: str) -> bool:
    if path.startswith("/") or _CONTROL.search(path):
        return False
    if any(segment == "" or segment.startswith(".") for segment in path.split("/")):
        return False
    try:
        validate_key(path)
    except InvalidKey:
        return False
    return True


def generated_key(session_id: str, path: str) -> str:
    last = path.rsplit("/", 1)[-1]
    match = _SAFE_EXTENSION.search(last)
    extension = match.group(0).lower() if match else ""
    return f"{object_prefix(session_id)}{GENERATED_FOLDER}/{secrets.token_hex(16)}{extension}"


def object_key(session_id: str, path: str) -> str:
    """The key for ``path``: its own when safe, otherwise a generated one; always inside the session."""
    key = f"{object_prefix(session_id)}{path}" if is_safe_path(path) else generated_key(session_id, path)
    validate_key(key)
    assert key.startswith(object_prefix(session_id))
    return key


def ancestors(path: str) -> list[str]:
    """``a/b/c`` → ``['a', 'a/b']``: names that, as files, would make ``path`` a file inside a file."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def attachment_disposition(path: str) -> str:
    """RFC 6266 ``attachment`` with an ASCII fallback and ``filename*`` in UTF-8; never CR, LF or quotes."""
    name = _CONTROL.sub("_", path.rsplit("/", 1)[-1]) or "download"
    name = name[:200]
    fallback = _UNSAFE_IN_FALLBACK.sub("_", name).strip() or "download"
    encoded = quote(name, safe="")
    return f'attachment; filename="{fallback}"; filename*=UTF-8\'\'{encoded}'
