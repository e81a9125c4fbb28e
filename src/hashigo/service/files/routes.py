"""``/api/v1/files/{key}``: the signed URLs of stores that cannot serve their own (local folder, memory).

S3, GCS and Azure sign URLs natively and serve them themselves; for them this route is 404.
A request passes only with ``?method=GET&expires=<unix s>&signature=<hex>`` made by
``hashigo.storage.signing.sign_local_url`` over this key, method and expiry with
``STORAGE_SIGNING_SECRET`` (derived from SECRET_KEY). The host and port are not part of the
check, so the URL keeps working behind a proxy or on another port than ``public_base_url``
says; what is signed (key, method, expiry) is what is checked. Any change, or expiry, is 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from hashigo.service.deps import SettingsDep, StorageDep
from hashigo.service.kit.errors import ApiError, error_responses
from hashigo.storage import InvalidSignature, ObjectNotFound, SignatureExpired
from hashigo.storage.keys import validate_key
from hashigo.storage.protocol import InvalidKey
from hashigo.storage.signing import verify_signature

router = APIRouter()

SELF_SIGNED_SCHEMES = ("file://", "memory://")


def _forbidden(detail: str) -> ApiError:
    return ApiError(403, "invalid_signature", detail)


@router.get("/{key:path}", response_class=StreamingResponse,
            responses={200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                            "description": "The object's bytes"}, **error_responses(403, 404)},
            summary="Download an object through a signed URL (local and memory stores)")
async def signed_download(
    key: str,
    settings: SettingsDep,
    storage: StorageDep,
    method: Annotated[str, Query(max_length=8)] = "",
    expires: Annotated[str, Query(max_length=20)] = "",
    signature: Annotated[str, Query(max_length=128)] = "",
) -> StreamingResponse:
    if not settings.storage.url.startswith(SELF_SIGNED_SCHEMES):
        raise ApiError(404, "not_served_here",
                       "this store serves its own signed URLs; this route serves only local and memory stores")
    if not (method and expires and signature):
        raise _forbidden("a signed URL needs method, expires and signature query parameters")
    if method != "GET":
        raise _forbidden(f"the URL was signed for {method!r}; this route serves GET")
    try:
        validate_key(key)
        verify_signature(key, method, expires, signature, settings.storage.signing_secret.get_secret_value())
    except SignatureExpired:
        raise _forbidden("the signed URL has expired; ask for a new one") from None
    except (InvalidSignature, InvalidKey):
        raise _forbidden("the signed URL does not match this key, method and expiry") from None
    try:
        stream = await storage.get(key)
    except ObjectNotFound:
        raise ApiError(404, "object_not_found", "the object this URL names no longer exists") from None
    info = stream.info
    headers = {"X-Content-Type-Options": "nosniff", "Content-Length": str(info.size),
               "Content-Disposition": info.content_disposition or "attachment",
               "Cache-Control": "private, no-store"}
    return StreamingResponse(stream, media_type=info.content_type or "application/octet-stream", headers=headers)
