"""Upload bodies: size-limited while streaming, and type-checked against their magic bytes.

A route that takes a raw body does::

    body = await limited_stream(request, settings.service.max_upload_bytes)
    checked = await sniffed(body, request.headers.get("content-type"), accepted=DEFAULT_ACCEPTED)
    info = await store_upload(storage, key, checked, content_type=checked.content_type)

Size: a ``Content-Length`` over the limit is refused with 413 before one byte is read; a body
without one (chunked) is counted while it streams and refused the moment it crosses the limit,
so the rest of it is never pulled from the client. The store's put then fails, and the adapters
abort it (local: the staging file is removed; S3: the multipart upload is aborted), so no object
is left and an existing object under the same key is untouched.

Type policy (the declared ``Content-Type``, parameters ignored, compared with the first
``SNIFF_BYTES`` of the body):

- types with a signature (PNG, JPEG, GIF, WebP, PDF, ZIP, MP4, …; ``SIGNATURES``) must start
  with it — a PNG declared over JPEG or ELF bytes is 415, naming declared vs detected;
- text types (``TEXT_TYPES``: text/plain, text/csv, text/markdown, application/json) have no
  magic: their first bytes must be UTF-8 without NUL, and must not be a known binary format;
- ``application/octet-stream`` claims nothing, so it is taken as is (downloads are always sent
  as attachments with ``nosniff``, so the bytes are never rendered by a browser);
- other accepted types are confirmed with ``puremagic``; a type it cannot confirm is refused;
- a type outside ``accepted``, or no ``Content-Type`` at all, is 415 listing the accepted types.

Multipart uploads: Starlette parses (and spools) a multipart body before the route runs, so the
413-before-read guarantee holds only for raw bodies; ``file_chunks`` still enforces the limit on
an ``UploadFile`` and the same ``sniffed`` check applies to it.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator, Collection, Mapping
from typing import Final

import puremagic
from fastapi import Request, UploadFile
from starlette.requests import ClientDisconnect

from hashigo.service.kit.errors import ApiError
from hashigo.storage import ObjectStore
from hashigo.storage.protocol import ObjectInfo

SNIFF_BYTES: Final = 4096
"""Bytes buffered before the check: puremagic needs 262 at most for its signatures; text needs a
little more to be judged fairly."""
FILE_CHUNK: Final = 256 * 1024

OCTET_STREAM: Final = "application/octet-stream"
TEXT_TYPES: Final = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})

# (offset, bytes): the content must hold one of these. Brands of ISO media files are checked apart.
SIGNATURES: Final[Mapping[str, tuple[tuple[int, bytes], ...]]] = {
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "image/webp": ((8, b"WEBP"),),
    "image/bmp": ((0, b"BM"),),
    "image/tiff": ((0, b"II*\x00"), (0, b"MM\x00*")),
    "application/pdf": ((0, b"%PDF-"),),
    "application/zip": ((0, b"PK\x03\x04"), (0, b"PK\x05\x06")),
    "application/gzip": ((0, b"\x1f\x8b"),),
    "audio/mpeg": ((0, b"ID3"), (0, b"\xff\xfb"), (0, b"\xff\xf3"), (0, b"\xff\xf2")),
    "audio/wav": ((8, b"WAVE"),),
    "audio/ogg": ((0, b"OggS"),),
    "audio/flac": ((0, b"fLaC"),),
    "audio/webm": ((0, b"\x1a\x45\xdf\xa3"),),
    "video/webm": ((0, b"\x1a\x45\xdf\xa3"),),
    # Before MP4: AVIF and HEIC are ISO media files too, told apart by their brand.
    "image/avif": ((4, b"ftypavif"), (4, b"ftypavis")),
    "image/heic": ((4, b"ftypheic"), (4, b"ftypheix"), (4, b"ftypmif1")),
    "video/mp4": ((4, b"ftyp"),),
    "audio/mp4": ((4, b"ftyp"),),
}
# The RIFF container holds both WebP and WAVE; the four bytes at offset 8 tell them apart.
_RIFF_TYPES: Final = frozenset({"image/webp", "audio/wav"})
_ALIASES: Final = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/x-wav": "audio/wav",
                   "audio/wave": "audio/wav", "audio/mp3": "audio/mpeg", "application/x-zip-compressed":
                   "application/zip", "application/x-gzip": "application/gzip", "text/x-markdown": "text/markdown"}

IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DEFAULT_ACCEPTED: Final = frozenset(SIGNATURES) | TEXT_TYPES | {OCTET_STREAM}
"""What session files may be: every type above; never HTML or SVG (script in a served file)."""


def normalise_type(content_type: str | None) -> str | None:
    """``'Image/JPG; q=1'`` → ``'image/jpeg'``; None or blank → None."""
    if content_type is None:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base) or None


def _bytes(size: int) -> str:
    return f"{size} bytes ({size / 2**20:.1f} MiB)" if size >= 2**20 else f"{size} bytes"


def too_large(limit: int) -> ApiError:
    return ApiError(413, "upload_too_large",
                    f"the upload is larger than the limit of {_bytes(limit)}; send at most that")


class LimitedBody:
    """The request body as chunks, refused with 413 once more than ``limit`` bytes arrive.

    The error is kept in ``error`` as well as raised: a store's put reports a failing stream
    in its own words, and ``store_upload`` gives the caller this one back.
    """

    def __init__(self, chunks: AsyncIterable[bytes], limit: int) -> None:
        self._chunks = chunks
        self.limit = limit
        self.received = 0
        self.error: ApiError | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._chunks:
                self.received += len(chunk)
                if self.received > self.limit:
                    raise too_large(self.limit)
                if chunk:
                    yield chunk
        except ClientDisconnect:
            raise ApiError(400, "upload_incomplete", "the client stopped sending before the body ended") from None
        except ApiError as exc:
            self.error = exc
            raise


async def limited_stream(request: Request, limit: int) -> LimitedBody:
    """The body of ``request``, at most ``limit`` bytes; a larger ``Content-Length`` is 413 at once."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "bad_content_length",
                           f"Content-Length {declared!r} is not a whole number of bytes")
        if int(declared) > limit:
            raise too_large(limit)
    return LimitedBody(request.stream(), limit)


async def _upload_file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(FILE_CHUNK):
        yield chunk


def file_chunks(upload: UploadFile, limit: int) -> LimitedBody:
    """A multipart ``UploadFile`` read in chunks, with the same limit (413 on its known size first)."""
    if upload.size is not None and upload.size > limit:
        raise too_large(limit)
    return LimitedBody(_upload_file_chunks(upload), limit)


class SniffedBody:
    """A body whose first bytes passed the type check; iterating yields all of it, in order."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes] | None, content_type: str, detected: str | None,
                 source: AsyncIterable[bytes]) -> None:
        self.content_type = content_type
        self.detected = detected
        self._head = head
        self._rest = rest
        self.error: ApiError | None = None
        self._source = source

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        if self._rest is None:
            return
        try:
            async for chunk in self._rest:
                yield chunk
        except ApiError as exc:
            self.error = exc
            raise

    @property
    def failure(self) -> ApiError | None:
        """The refusal that ended the stream (size limit, client gone), if any."""
        source_error = getattr(self._source, "error", None)
        return self.error or (source_error if isinstance(source_error, ApiError) else None)


def _matches(content_type: str, head: bytes) -> bool:
    signatures = SIGNATURES[content_type]
    if content_type in _RIFF_TYPES and not head.startswith(b"RIFF"):
        return False
    return any(head[offset:offset + len(magic)] == magic for offset, magic in signatures)


def _is_text(head: bytes, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)  # a cut multi-byte character at the end is fine
    except UnicodeDecodeError:
        return False
    return True


# Left out when naming what bytes are: duplicates of another entry, or too short to tell ("BM").
_NOT_DETECTED: Final = frozenset({"audio/webm", "audio/mp4", "image/bmp"})


def _signature_of(head: bytes) -> str | None:
    return next((t for t in SIGNATURES if t not in _NOT_DETECTED and _matches(t, head)), None)


def detect_type(head: bytes, *, complete: bool = False) -> str | None:
    """What the bytes look like: a type from ``SIGNATURES``, puremagic's best guess, text/plain, or None."""
    known = _signature_of(head)
    if known is not None:
        return known
    guess = _puremagic_types(head)
    if guess:
        return guess[0]
    if head and _is_text(head, complete):
        return "text/plain"
    return None


def _puremagic_types(head: bytes) -> list[str]:
    if not head:
        return []
    try:
        results = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return []
    return [normalise_type(r.mime_type) or "" for r in results if r.mime_type]


def _accepted_list(accepted: Collection[str]) -> str:
    return ", ".join(sorted(accepted))


def check_type(declared: str | None, head: bytes, accepted: Collection[str], *, complete: bool,
               infer_missing_type: bool = False) -> str:
    """The normalised declared type if ``head`` fits it, else an ApiError(415) naming both.

    With ``infer_missing_type``, a missing or generic (octet-stream) declaration is replaced by what
    the bytes are, if that is accepted.
    """
    content_type = normalise_type(declared)
    if infer_missing_type and content_type in (None, OCTET_STREAM):
        content_type = detect_type(head, complete=complete) or content_type
    if content_type is None:
        raise ApiError(415, "content_type_required",
                       f"send a Content-Type header; accepted: {_accepted_list(accepted)}")
    if content_type not in accepted:
        raise ApiError(415, "unsupported_content_type",
                       f"Content-Type {content_type!r} is not accepted; accepted: {_accepted_list(accepted)}")
    if content_type == OCTET_STREAM:
        return content_type
    if content_type in SIGNATURES:
        fits = _matches(content_type, head)
    elif content_type in TEXT_TYPES:
        fits = _is_text(head, complete) and _signature_of(head) is None
    else:
        fits = content_type in _puremagic_types(head)
    if not fits:
        detected = detect_type(head, complete=complete) or "unrecognised binary data"
        raise ApiError(415, "content_type_mismatch",
                       f"declared Content-Type {content_type!r} does not match the content, which looks like "
                       f"{detected!r}; declare the file's real type (accepted: {_accepted_list(accepted)})")
    return content_type


async def sniffed(body: AsyncIterable[bytes], declared_type: str | None, *,
                  accepted: Collection[str] = DEFAULT_ACCEPTED, infer_missing_type: bool = False) -> SniffedBody:
    """Read the first ``SNIFF_BYTES`` of ``body``, check them against ``declared_type``, hand all back."""
    iterator = body.__aiter__()
    head = bytearray()
    complete = False
    while len(head) < SNIFF_BYTES:
        try:
            head += await iterator.__anext__()
        except StopAsyncIteration:
            complete = True
            break
    content_type = check_type(declared_type, bytes(head), accepted, complete=complete,
                              infer_missing_type=infer_missing_type)
    return SniffedBody(bytes(head), None if complete else iterator, content_type,
                       detect_type(bytes(head), complete=complete), body)


async def store_upload(storage: ObjectStore, key: str, body: SniffedBody | LimitedBody, *,
                       content_type: str | None = None, content_disposition: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> ObjectInfo:
    """``storage.put`` of a checked body; when the body itself was refused, raise that refusal (413)."""
    try:
        return await storage.put(key, body, content_type=content_type,
                                 content_disposition=content_disposition, metadata=metadata)
    except Exception as exc:
        refusal = body.failure if isinstance(body, SniffedBody) else body.error
        if refusal is None:
            refusal = _api_error_in_chain(exc)
        if refusal is not None:
            raise refusal from None
        raise


def _api_error_in_chain(exc: BaseException) -> ApiError | None:
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        if isinstance(current, ApiError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
