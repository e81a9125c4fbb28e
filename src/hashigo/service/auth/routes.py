"""HTTP routes of the auth domain: thin; the rules live in ``service.py``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from hashigo.service.auth import service
from hashigo.service.auth.deps import CurrentUser
from hashigo.service.auth.schemas import (
    LoginForm,
    LoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from hashigo.service.deps import DbSession, RuntimeDep
from hashigo.service.kit.errors import ApiError, error_responses
from hashigo.service.kit.uploads import limited_stream
from hashigo.service.users.schemas import UserOut
from hashigo.service.users.service import user_out

router = APIRouter()

MAX_LOGIN_BODY = 16 * 1024  # credentials are small; bound what an anonymous caller can make us read


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


VALIDATION_ERROR = {"description": "Validation Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
LOGIN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline_schema(LoginRequest)},
    "application/x-www-form-urlencoded": {"schema": _inline_schema(LoginForm)},
}}}


@router.post("/register", status_code=201, response_model=UserOut, responses=error_responses(400, 409, 503),
             summary="Create an account")
async def register(body: RegisterRequest, db: DbSession, runtime: RuntimeDep) -> UserOut:
    user = await service.register(db, body)
    return await user_out(runtime, user)


@router.post("/login", response_model=TokenPair, openapi_extra=LOGIN_BODY,
             responses={**error_responses(400, 401, 413, 415, 429, 503), 422: VALIDATION_ERROR},
             summary="Log in with JSON {email, password} or the OAuth2 password form")
async def login(request: Request, db: DbSession, runtime: RuntimeDep) -> TokenPair:
    email, password = await _credentials(request)
    address = request.client.host if request.client else "unknown"
    return await service.login(db, runtime, email, password, address)


async def _credentials(request: Request) -> tuple[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = content_type == "application/x-www-form-urlencoded"
    if not (is_form or content_type == "application/json"):
        raise ApiError(415, "unsupported_media_type",
                       "send JSON {\"email\", \"password\"} or an application/x-www-form-urlencoded OAuth2 "
                       "password form (username, password)")
    body = b"".join([chunk async for chunk in await limited_stream(request, MAX_LOGIN_BODY)])
    try:
        if is_form:
            fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            form = LoginForm.model_validate(fields)
            return form.username, form.password
        parsed = LoginRequest.model_validate_json(body)
        return parsed.email, parsed.password
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


@router.post("/refresh", response_model=TokenPair, responses=error_responses(400, 401, 503),
             summary="Trade a refresh token for a new pair (the old refresh token stops working)")
async def refresh(body: RefreshRequest, db: DbSession, runtime: RuntimeDep) -> TokenPair:
    return await service.refresh(db, runtime, body.refresh_token)


@router.post("/logout", status_code=204, response_class=Response, responses=error_responses(401, 503),
             summary="End this login: its access and refresh tokens stop working")
async def logout(principal: CurrentUser, db: DbSession, runtime: RuntimeDep) -> Response:
    await service.revoke_family(db, runtime.pubsub, principal.user.id, principal.family_id, "logout")
    return Response(status_code=204)


@router.post("/password", response_model=TokenPair, responses=error_responses(400, 401, 403, 429, 503),
             summary="Change the password; every existing login ends, a new one is returned")
async def change_password(body: PasswordChangeRequest, principal: CurrentUser, db: DbSession,
                          runtime: RuntimeDep) -> TokenPair:
    return await service.change_password(db, runtime, principal.user, body)
