"""Avatars: one image per user at ``users/{id}/avatar.<ext>`` in the object store.

The body is counted while it streams (``MAX_AVATAR_BYTES``; 413 before the rest is read) and its
first bytes must match the declared image type (415). Write order: the object first, then the
row pointing at it, then the previous object if its name differed — a crash in between leaves at
worst an unreferenced object, never a row pointing at nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from datetime import UTC, datetime
from typing import Final, cast

from fastapi import Request, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.formparsers import MultiPartException, MultiPartParser

from hashigo.runtime import Runtime
from hashigo.service.kit.errors import ApiError
from hashigo.service.kit.uploads import IMAGE_TYPES, file_chunks, limited_stream, sniffed, store_upload
from hashigo.service.users.models import User
from hashigo.service.users.service import avatar_url, remove_object

EXTENSIONS: Final = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD: Final = 16 * 1024


def avatar_key(user_id: str, content_type: str) -> str:
    return f"users/{user_id}/avatar.{EXTENSIONS[content_type]}"


async def put_raw(db: AsyncSession, runtime: Runtime, user: User, request: Request) -> str:
    """``PUT`` with the image as the body and its type in ``Content-Type``."""
    body = await limited_stream(request, runtime.settings.service.max_avatar_bytes)
    return await _store(db, runtime, user, body, request.headers.get("content-type"))


async def put_multipart(db: AsyncSession, runtime: Runtime, user: User, request: Request) -> str:
    """``POST`` multipart/form-data with the image in the field ``file``."""
    limit = runtime.settings.service.max_avatar_bytes
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(415, "multipart_required", "send multipart/form-data with the image in the field `file`, "
                                                  "or PUT the raw image with its Content-Type")
    body = await limited_stream(request, limit + MULTIPART_OVERHEAD)
    form = await _parse_form(request, _generator(body))
    try:
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise ApiError(400, "file_required", "the form needs a file in the field `file`")
        unexpected = sorted(name for name in form if name != "file")
        if unexpected:
            raise ApiError(400, "unexpected_field",
                           f"the form takes only the field `file`; remove {', '.join(map(repr, unexpected))}")
        # FastAPI's UploadFile only adds schema hooks to Starlette's; file_chunks reads size and read().
        chunks = file_chunks(cast(UploadFile, upload), limit)
        # Browsers label the part; curl -F and generated clients often do not: the bytes decide then.
        return await _store(db, runtime, user, chunks, upload.content_type, infer_missing_type=True)
    finally:
        await form.close()


async def _parse_form(request: Request, stream: AsyncGenerator[bytes, None]) -> FormData:
    try:
        return await MultiPartParser(request.headers, stream, max_files=1, max_fields=4).parse()
    except MultiPartException as exc:
        raise ApiError(400, "bad_multipart", f"the multipart body could not be read: {exc.message}") from None


async def _generator(chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    async for chunk in chunks:
        yield chunk


async def _store(db: AsyncSession, runtime: Runtime, user: User, body: AsyncIterable[bytes],
                 declared: str | None, *, infer_missing_type: bool = False) -> str:
    checked = await sniffed(body, declared, accepted=IMAGE_TYPES, infer_missing_type=infer_missing_type)
    key = avatar_key(user.id, checked.content_type)
    await store_upload(runtime.storage, key, checked, content_type=checked.content_type)
    previous, user.avatar_key, user.updated_at = user.avatar_key, key, datetime.now(UTC)
    await db.commit()
    if previous and previous != key:
        await remove_object(runtime, previous)
    return await avatar_url(runtime, key)


async def delete(db: AsyncSession, runtime: Runtime, user: User) -> None:
    previous, user.avatar_key, user.updated_at = user.avatar_key, None, datetime.now(UTC)
    await db.commit()
    if previous:
        await remove_object(runtime, previous)
