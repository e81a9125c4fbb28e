"""Request and response bodies of the auth domain."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hashigo.service.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem

# Deliberately simple: one @, no spaces or control characters, a dot in the domain; delivery is
# what proves an address. Explicit classes (no \s) so the schema, Pydantic's regex engine and
# schemathesis all read the pattern the same way.
_NOT_IN_NAME = r"@ \x00-\x1f\x7f"
EMAIL_PATTERN = rf"^[^{_NOT_IN_NAME}]{{1,64}}@[^{_NOT_IN_NAME}.]+(\.[^{_NOT_IN_NAME}.]+)+$"


def _email(value: str) -> str:
    return value.lower()  # the pattern has been checked already


def _new_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN, examples=["ada@example.com"]),
                  AfterValidator(_email)]
NewPassword = Annotated[
    str,
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH,
          description="8 to 1024 characters, any characters; very common passwords are refused",
          examples=["correct horse battery staple"]),
    AfterValidator(_new_password),
]
# Checked against the stored hash only; bounded so nobody can make us hash megabytes.
GivenPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
DisplayName = Annotated[str, Field(min_length=1, max_length=100, examples=["Ada Lovelace"])]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: NewPassword
    display_name: DisplayName


class LoginRequest(BaseModel):
    """JSON login; the same route also takes the OAuth2 password form (``username``, ``password``)."""

    email: Email
    password: GivenPassword


class LoginForm(BaseModel):
    username: Email = Field(description="the account's email")
    password: GivenPassword
    grant_type: Literal["password"] | None = None
    scope: str = ""


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class PasswordChangeRequest(BaseModel):
    current_password: GivenPassword
    new_password: NewPassword


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
