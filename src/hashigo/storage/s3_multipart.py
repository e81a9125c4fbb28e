"""S3 multipart uploads by upload id (CreateMultipartUpload, UploadPart, Complete, Abort) over httpx.

obstore uploads in parts but keeps the upload id to itself, so a killed process loses every part.
These four calls are what ``ResumableUploads`` needs; the rest of S3 stays with obstore.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx

from hashigo.errors import BackendUnavailable
from hashigo.storage.attributes import encode_attributes
from hashigo.storage.keys import validate_key
from hashigo.storage.multipart import CompletedUpload, DamagedInTransit, UploadedPart, UploadNotFound
from hashigo.storage.protocol import StorageError
from hashigo.storage.sigv4 import Credentials, sign_headers, uri_encode

if TYPE_CHECKING:
    from obstore import Attributes

_NS = re.compile(r"^\{[^}]*\}")
_STANDARD_HEADERS = {"Content-Type", "Cache-Control", "Content-Disposition"}
_SEND_SLICE = 1024 * 1024
COMPLETE_TIMEOUT_SECONDS = 300.0
_DAMAGED = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "IncompleteBody"}


@dataclass(frozen=True, slots=True)
class S3Target:
    """Where requests go: the bucket's base URL and the key prefix inside it."""

    base_url: str
    """Scheme, host and path up to and including the bucket (path style) or the host (virtual host)."""
    prefix: str
    region: str
    credentials: Credentials
    timeout_seconds: float
    connect_timeout_seconds: float

    @classmethod
    def for_bucket(cls, bucket: str, prefix: str | None, *, endpoint: str | None, region: str, path_style: bool,
                   credentials: Credentials, timeout_seconds: float, connect_timeout_seconds: float) -> S3Target:
        if endpoint:
            base = f"{endpoint.rstrip('/')}/{uri_encode(bucket)}"
        elif path_style:
            base = f"https://s3.{region}.amazonaws.com/{uri_encode(bucket)}"
        else:
            base = f"https://{bucket}.s3.{region}.amazonaws.com"
        return cls(base, prefix or "", region, credentials, timeout_seconds, connect_timeout_seconds)


async def _slices(data: bytes | memoryview) -> AsyncIterator[bytes]:
    """A part body in small pieces: httpx given one big ``bytes`` keeps two more copies of it while it
    sends (h11 joins the frame, the transport buffers what the socket has not taken yet)."""
    with memoryview(data) as view:
        for start in range(0, len(view), _SEND_SLICE):
            yield view[start:start + _SEND_SLICE].tobytes()


def _unquote_etag(value: str | None) -> str | None:
    return value.strip().strip('"') if value else None


def _tag(element: ElementTree.Element) -> str:
    return _NS.sub("", element.tag)


def _find_text(root: ElementTree.Element, name: str) -> str | None:
    for element in root.iter():
        if _tag(element) == name:
            return element.text
    return None


class S3ResumableUploads:
    """``ResumableUploads`` for any S3-compatible endpoint (AWS, R2, MinIO, Supabase, rclone serve s3)."""

    min_part_size = 5 * 1024 * 1024
    max_parts = 10_000

    def __init__(self, target: S3Target) -> None:
        self._target = target
        self._client: httpx.AsyncClient | None = None
        parts = urlsplit(target.base_url)
        self._host = parts.netloc
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(self._target.timeout_seconds, connect=self._target.connect_timeout_seconds)
            self._client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=32))
        return self._client

    def _path(self, key: str) -> str:
        full = f"{self._target.prefix}/{key}" if self._target.prefix else key
        return f"{self._base_path}/{uri_encode(full, keep_slash=True)}"

    async def _call(self, method: str, key: str, query: Mapping[str, str], *, headers: Mapping[str, str] | None = None,
                    body: bytes | AsyncIterator[bytes] = b"", upload_id: str | None = None,
                    read_timeout: float | None = None) -> httpx.Response:
        path = self._path(key)
        signed = sign_headers(self._target.credentials, self._target.region, method, self._host, path, query,
                              headers or {})
        query_text = "&".join(f"{uri_encode(k)}={uri_encode(v)}" if v else uri_encode(k) for k, v in query.items())
        url = httpx.URL(f"{self._origin}{path}" + (f"?{query_text}" if query_text else ""))
        try:
            timeout = httpx.USE_CLIENT_DEFAULT if read_timeout is None else httpx.Timeout(
                self._target.timeout_seconds, read=read_timeout, connect=self._target.connect_timeout_seconds)
            response = await self._http().request(method, url, headers=signed, content=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise BackendUnavailable("storage:s3",
                                     f"{method} {key!r}: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise BackendUnavailable("storage:s3", f"{method} {key!r}: {type(exc).__name__}: {exc}") from exc
        self._raise_for_error(response, method, key, upload_id)
        return response

    def _raise_for_error(self, response: httpx.Response, method: str, key: str, upload_id: str | None) -> None:
        # CompleteMultipartUpload may answer 200 with an <Error> body (AWS documents this).
        text = response.text if response.status_code >= 300 or method == "POST" else ""
        if response.status_code < 300 and "<Error>" not in text:
            return
        code = ""
        message = ""
        if text.lstrip().startswith("<"):
            try:
                root = ElementTree.fromstring(text)
                code = _find_text(root, "Code") or ""
                message = _find_text(root, "Message") or ""
            except ElementTree.ParseError:
                pass
        if code in {"NoSuchUpload", "InvalidPart"} and upload_id is not None:
            # InvalidPart: the store no longer has a part we recorded; only a new upload can fix that.
            raise UploadNotFound(key, upload_id)
        detail = f"{method} {key!r}: HTTP {response.status_code} {code} {message}".strip()
        if code in _DAMAGED:
            raise DamagedInTransit(f"{detail}: the part's bytes did not match their checksum on arrival")
        if response.status_code >= 500 or code in {"InternalError", "SlowDown", "ServiceUnavailable"}:
            raise BackendUnavailable("storage:s3", detail)
        raise StorageError(f"multipart upload on {self._target.base_url}: {detail}")

    async def create(
        self,
        key: str,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        validate_key(key)
        attributes: Attributes = encode_attributes(content_type, cache_control, content_disposition, metadata)
        headers = {name if name in _STANDARD_HEADERS else f"x-amz-meta-{name}": str(value)
                   for name, value in attributes.items()}
        response = await self._call("POST", key, {"uploads": ""}, headers=headers)
        upload_id = _find_text(ElementTree.fromstring(response.text), "UploadId")
        if not upload_id:
            raise StorageError(f"CreateMultipartUpload of {key!r} answered without an UploadId")
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview,
                       *, md5: bytes | None = None) -> UploadedPart:
        validate_key(key)
        if not 1 <= number <= self.max_parts:
            raise StorageError(f"part number {number} is out of range; accepted: 1..{self.max_parts}")
        headers = {"Content-Length": str(len(data))}
        if md5 is not None:
            headers["Content-MD5"] = base64.b64encode(md5).decode()
        response = await self._call("PUT", key, {"partNumber": str(number), "uploadId": upload_id},
                                    headers=headers, body=_slices(data), upload_id=upload_id)
        return UploadedPart(number, _unquote_etag(response.headers.get("etag")))

    async def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> CompletedUpload:
        validate_key(key)
        ordered = sorted(parts, key=lambda part: part.number)
        body = "".join(f"<Part><PartNumber>{p.number}</PartNumber><ETag>\"{p.etag or ''}\"</ETag></Part>"
                       for p in ordered)
        xml = f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}</CompleteMultipartUpload>'
        # S3 may take minutes to assemble a very large object before it answers (keeping the
        # connection alive with whitespace), so completion gets a longer read timeout.
        response = await self._call("POST", key, {"uploadId": upload_id}, body=xml.encode(),
                                    headers={"Content-Type": "application/xml"}, upload_id=upload_id,
                                    read_timeout=max(self._target.timeout_seconds, COMPLETE_TIMEOUT_SECONDS))
        etag = _find_text(ElementTree.fromstring(response.text), "ETag")
        return CompletedUpload(_unquote_etag(etag))

    async def abort(self, key: str, upload_id: str) -> None:
        validate_key(key)
        try:
            await self._call("DELETE", key, {"uploadId": upload_id}, upload_id=upload_id)
        except UploadNotFound:
            return

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.shield(client.aclose())
