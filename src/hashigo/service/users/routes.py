"""HTTP routes of the users domain: the signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hashigo.service.auth.deps import CurrentUser
from hashigo.service.deps import DbSession, RuntimeDep
from hashigo.service.kit.errors import error_responses
from hashigo.service.users import avatar, service
from hashigo.service.users.schemas import AvatarOut, UserOut, UserUpdate

router = APIRouter()


@router.get("/me", response_model=UserOut, responses=error_responses(401, 503), summary="The signed-in user")
async def get_me(principal: CurrentUser, runtime: RuntimeDep) -> UserOut:
    return await service.user_out(runtime, principal.user)


@router.patch("/me", response_model=UserOut, responses=error_responses(400, 401, 403, 409, 429, 503),
              summary="Change display_name, or email (with current_password)")
async def patch_me(body: UserUpdate, principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> UserOut:
    user = await service.update(db, runtime, principal.user, body)
    return await service.user_out(runtime, user)


@router.post("/me/disable", status_code=204, response_class=Response, responses=error_responses(401, 503),
             summary="Disable the account: every login ends and logging in is refused")
async def disable_me(principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> Response:
    await service.disable(db, runtime, principal.user)
    return Response(status_code=204)


@router.delete("/me", status_code=204, response_class=Response, responses=error_responses(401, 503),
               summary="Delete the account, its logins and its avatar")
async def delete_me(principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> Response:
    await service.delete(db, runtime, principal.user)
    return Response(status_code=204)


_BINARY = {"schema": {"type": "string", "format": "binary"}}
RAW_IMAGE_BODY = {"requestBody": {"required": True, "content": {t: _BINARY for t in avatar.EXTENSIONS}}}
MULTIPART_IMAGE_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "additionalProperties": False,
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "a JPEG, PNG, WebP or GIF image"}}}}}}}
AVATAR_ERRORS = error_responses(400, 401, 413, 415, 503)


@router.put("/me/avatar", response_model=AvatarOut, responses=AVATAR_ERRORS, openapi_extra=RAW_IMAGE_BODY,
            summary="Upload the avatar as the raw body (Content-Type image/jpeg, png, webp or gif)")
async def put_avatar(request: Request, principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> AvatarOut:
    return AvatarOut(avatar_url=await avatar.put_raw(db, runtime, principal.user, request))


@router.post("/me/avatar", response_model=AvatarOut, responses=AVATAR_ERRORS, openapi_extra=MULTIPART_IMAGE_BODY,
             summary="Upload the avatar as multipart/form-data, field `file`")
async def post_avatar(request: Request, principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> AvatarOut:
    return AvatarOut(avatar_url=await avatar.put_multipart(db, runtime, principal.user, request))


@router.delete("/me/avatar", status_code=204, response_class=Response, responses=error_responses(401, 503),
               summary="Remove the avatar")
async def delete_avatar(principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> Response:
    await avatar.delete(db, runtime, principal.user)
    return Response(status_code=204)
