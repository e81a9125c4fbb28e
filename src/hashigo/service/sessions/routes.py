"""HTTP routes of the sessions domain: ``/api/v1/sessions``. Logic lives in ``service.py``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.convertors import PathConvertor, register_url_convertor

from hashigo.service.auth.deps import CurrentUser
from hashigo.service.deps import RuntimeDep
from hashigo.service.kit.errors import ApiError, error_responses
from hashigo.service.kit.uploads import DEFAULT_ACCEPTED, limited_stream, sniffed
from hashigo.service.sessions import paths
from hashigo.service.sessions.repository import FIELD_NAME
from hashigo.service.sessions.schemas import FileList, FileOut, MetaOut, SessionDetail, SessionList, SessionOut
from hashigo.service.sessions.service import MAX_META_BYTES, SessionService

router = APIRouter()


class _AnyPath(PathConvertor):
    """Starlette's ``path`` without its blind spot: a name with a newline must reach the unsafe-name
    rule (stored under a generated key) rather than match no route at all."""

    regex = "(?s:.*)"


register_url_convertor("anypath", _AnyPath())


def get_service(runtime: RuntimeDep) -> SessionService:
    return SessionService(runtime.kv, runtime.storage, runtime.pubsub, runtime.settings)


Sessions = Annotated[SessionService, Depends(get_service)]
FieldName = Annotated[str, Path(pattern=FIELD_NAME.pattern,
                                description="1 to 64 of A-Z a-z 0-9 _ . - ('file' is reserved)")]
_ANY_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
          "description": "The file's bytes, with the type it was uploaded as"}}

_JSON_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
}
_FILE_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "description": "The file's bytes; Content-Type must match them.",
                    # A JSON file is any JSON document, not a JSON string holding bytes.
                    "content": {kind: {"schema": {} if kind == "application/json"
                                       else {"type": "string", "format": "binary"}}
                                for kind in sorted(DEFAULT_ACCEPTED)}},
}


@router.post("", status_code=201, response_model=SessionOut, responses=error_responses(401))
async def create_session(principal: CurrentUser, sessions: Sessions) -> SessionOut:
    """Create a session owned by the caller."""
    return await sessions.create(principal.user.id)


@router.get("", response_model=SessionList, responses=error_responses(401))
async def list_sessions(principal: CurrentUser, sessions: Sessions) -> SessionList:
    """The caller's live sessions, oldest first."""
    return await sessions.list(principal.user.id)


@router.get("/{session_id}", response_model=SessionDetail, responses=error_responses(401, 404))
async def get_session(session_id: str, principal: CurrentUser, sessions: Sessions) -> SessionDetail:
    return await sessions.detail(principal.user.id, session_id)


@router.delete("/{session_id}", status_code=204, responses=error_responses(401, 404))
async def delete_session(session_id: str, principal: CurrentUser, sessions: Sessions) -> Response:
    """Delete the session: its file records, then its objects, then its metadata."""
    await sessions.delete(principal.user.id, session_id)
    return Response(status_code=204)


async def _json_body(request: Request) -> Any:
    declared = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if declared != "application/json" and not declared.endswith("+json"):
        raise ApiError(415, "unsupported_content_type",
                       f"metadata values are JSON; send Content-Type: application/json, not {declared!r}")
    body = await limited_stream(request, MAX_META_BYTES)
    raw = b"".join([chunk async for chunk in body])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON ({exc}); send one JSON value") from None


@router.put("/{session_id}/meta/{field}", response_model=MetaOut, openapi_extra=_JSON_BODY,
            responses=error_responses(400, 401, 404, 413, 415))
async def put_meta(session_id: str, field: FieldName, request: Request, principal: CurrentUser,
                   sessions: Sessions) -> MetaOut:
    """Store one JSON value (at most 64 KiB) as ``session:{id}:meta:{field}``."""
    await sessions.require(principal.user.id, session_id, field=field)
    return await sessions.put_meta(session_id, field, await _json_body(request))


@router.get("/{session_id}/meta/{field}", response_model=MetaOut, responses=error_responses(400, 401, 404))
async def get_meta(session_id: str, field: FieldName, principal: CurrentUser, sessions: Sessions) -> MetaOut:
    return await sessions.get_meta(principal.user.id, session_id, field)


@router.delete("/{session_id}/meta/{field}", status_code=204, responses=error_responses(400, 401, 404))
async def delete_meta(session_id: str, field: FieldName, principal: CurrentUser, sessions: Sessions) -> Response:
    await sessions.delete_meta(principal.user.id, session_id, field)
    return Response(status_code=204)


@router.get("/{session_id}/files", response_model=FileList, responses=error_responses(401, 404))
async def list_files(session_id: str, principal: CurrentUser, sessions: Sessions) -> FileList:
    """The session's files, each with a signed download URL."""
    return await sessions.files(principal.user.id, session_id)


@router.put("/{session_id}/files/{path:anypath}", status_code=201, response_model=FileOut, openapi_extra=_FILE_BODY,
            responses=error_responses(400, 401, 404, 409, 413, 415))
async def upload_file(session_id: str, path: str, request: Request, principal: CurrentUser,
                      sessions: Sessions) -> FileOut:
    """Upload the raw body as ``path`` (streamed; size-limited; type checked against magic bytes)."""
    await sessions.require(principal.user.id, session_id)
    paths.check_path(path)
    body = await limited_stream(request, sessions.max_upload_bytes)
    checked = await sniffed(body, request.headers.get("content-type"), accepted=DEFAULT_ACCEPTED)
    return await sessions.upload(session_id, path, checked)


@router.get("/{session_id}/files/{path:anypath}", response_class=StreamingResponse,
            responses={**_ANY_BYTES, **error_responses(401, 404)})
async def download_file(session_id: str, path: str, principal: CurrentUser, sessions: Sessions) -> StreamingResponse:
    """The file's bytes, streamed, as an attachment."""
    record, stream = await sessions.open_file(principal.user.id, session_id, path)
    headers = {"Content-Disposition": paths.attachment_disposition(record.path),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
               "Content-Length": str(stream.info.size)}
    if record.etag:
        headers["ETag"] = record.etag if record.etag.startswith('"') else f'"{record.etag}"'
    return StreamingResponse(stream, media_type=record.content_type, headers=headers)


@router.delete("/{session_id}/files/{path:anypath}", status_code=204, responses=error_responses(401, 404))
async def delete_file(session_id: str, path: str, principal: CurrentUser, sessions: Sessions) -> Response:
    """Remove the record, then the object."""
    await sessions.delete_file(principal.user.id, session_id, path)
    return Response(status_code=204)
