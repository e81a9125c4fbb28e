"""Checklist 24: Schemathesis against the OpenAPI document of a real `hashigo serve`, on both profiles.

No 5xx, every response conforms to the document, and protected routes refuse unauthenticated calls.
Operations that end the caller's own login (log out, change password, disable or delete the account)
run in a second pass with their own account, so they do not cut the first pass's token short.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness.service import LiveService

# Ends the token it is called with; fuzzed in a pass of its own.
SELF_ENDING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password"),
               ("POST", "/api/v1/users/me/disable"), ("DELETE", "/api/v1/users/me")}
MAX_EXAMPLES = "15"
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.slow


def sign_in(base_url: str, email: str) -> str:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        registered = client.post("/api/v1/auth/register",
                                 json={"email": email, "password": PASSWORD, "display_name": "Fuzz"})
        assert registered.status_code == 201, registered.text
        tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        token: str = tokens.json()["access_token"]
        return token


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in {"get", "put", "post", "patch", "delete"}]


# Uploads check the declared type against the bytes (checklist 20), which OpenAPI cannot express:
# random "binary" data is rightly refused with 415, so 415 counts as an accepted answer there.
# The session-file body lists every accepted type, so most generated bodies mismatch their type;
# the filter_too_much health check would stop the run before the operation is exercised.
CONFIG = """
suppress-health-check = ["filter_too_much"]

[[operations]]
include-path-regex = "(/users/me/avatar|/sessions/.*/files/.*)$"
include-method = ["PUT", "POST"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "415", "429"]

# A download is the user's file, served with the type it was uploaded as: a text file labelled
# application/json need not parse, so its body is not checked against a schema (status, headers
# and the 5xx check still apply).
[[operations]]
include-path-regex = "/sessions/.*/files/.*$"
include-method = "GET"
checks.response_schema_conformance.enabled = false
"""


def schemathesis_run(service: LiveService, token: str, tmp_path: Path, name: str, *selection: str) -> str:
    report = tmp_path / f"{name}.xml"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    argv = [SCHEMATHESIS, "--config-file", str(config), "run", f"{service.url}/openapi.json", "--checks", "all",
            "-H", f"Authorization: Bearer {token}", "--max-examples", MAX_EXAMPLES, "--seed", "24",
            "--workers", "2", "--request-timeout", "20", "--no-color", "--generation-database", "none",
            "--report", "junit", "--report-junit-path", str(report), *selection]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=400, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis ({name}) found problems:\n{output[-12000:]}\n{service.log()}"
    assert re.search(r"\d+ generated", output), output[-2000:]
    return output


@pytest.fixture
def fuzzed_service(service_env: dict[str, str], tmp_path: Path) -> Any:
    # Fuzzed logins would trip the per-address limit within seconds; the limit has tests of its own.
    env = {**service_env, "LOGIN_FAILURES_PER_ADDRESS": "100000", "LOGIN_FAILURES_PER_ACCOUNT": "100000"}
    service = LiveService(env, tmp_path).start()
    try:
        yield service
    finally:
        service.stop()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzzed_service: LiveService,
                                                                    tmp_path: Path) -> None:
    document = httpx.get(f"{fuzzed_service.url}/openapi.json").json()
    ending = [op["operationId"] for method, path, op in operations(document) if (method, path) in SELF_ENDING]
    assert len(ending) == len(SELF_ENDING), "an operation that ends the login was renamed or removed"

    token = sign_in(fuzzed_service.url, "fuzz-main@example.com")
    excluded = [arg for op_id in ending for arg in ("--exclude-operation-id", op_id)]
    output = schemathesis_run(fuzzed_service, token, tmp_path, "main", *excluded)
    assert "Authentication failed" not in output  # the token lasted the whole run

    for n, op_id in enumerate(ending):
        token = sign_in(fuzzed_service.url, f"fuzz-ending-{n}@example.com")
        schemathesis_run(fuzzed_service, token, tmp_path, f"ending-{n}", "--include-operation-id", op_id)


def test_protected_routes_refuse_calls_without_a_valid_token(live_service: LiveService) -> None:
    """Every operation the document marks as needing a bearer token answers 401 without one, and with
    a forged one, before reading its body or path parameters."""
    document = httpx.get(f"{live_service.url}/openapi.json").json()
    protected = [(method, path) for method, path, op in operations(document) if op.get("security")]
    assert ("GET", "/api/v1/users/me") in protected
    assert ("GET", "/api/v1/sessions/{session_id}/meta/{field}") in protected
    forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    with httpx.Client(base_url=live_service.url, timeout=30.0) as client:
        for method, path in protected:
            url = re.sub(r"\{[^}]+\}", "x1", path)
            for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": "Basic dTpw"}):
                response = client.request(method, url, headers=headers, content=b"{}")
                assert response.status_code == 401, (method, path, headers, response.status_code, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
