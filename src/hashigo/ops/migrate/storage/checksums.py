"""SHA-256 and MD5 of the bytes read from the source, computed once, off the event loop when large.

SHA-256 is each object's identity in the journal and the reports. MD5 is only what S3-protocol
stores compute over the bytes they receive and return as the ETag (single-part: the MD5 of the
object; multipart: the MD5 of the parts' MD5s, then ``-<parts>``), so comparing it proves the
stored bytes are the ones hashed. hashlib releases the GIL on large buffers, so the two digests
of one buffer run on two cores.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from typing import Any

INLINE_LIMIT = 512 * 1024
"""Below this, hashing on the event loop is cheaper than a hop to a thread."""

_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^[0-9a-f]{32}-\d+$")


async def _update_all(hashers: Sequence[Any], data: bytes | memoryview) -> None:
    if len(data) < INLINE_LIMIT:
        for hasher in hashers:
            hasher.update(data)
        return
    await asyncio.gather(*(asyncio.to_thread(hasher.update, data) for hasher in hashers))


async def sha256_and_md5(data: bytes) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    await _update_all((sha, md5), data)
    return sha.hexdigest(), md5.hexdigest()


class RunningDigests:
    """Digests of a stream fed in order: SHA-256 always, MD5 of the whole only when asked."""

    def __init__(self, *, md5: bool) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5() if md5 else None
        self.size = 0

    async def update(self, data: bytes | memoryview) -> None:
        hashers: list[Any] = [self.sha256] if self.md5 is None else [self.sha256, self.md5]
        await _update_all(hashers, data)
        self.size += len(data)


async def sha256_and_part_md5(running: RunningDigests, part: bytes | memoryview) -> bytes:
    """Feed ``part`` to the object's SHA-256 and return the part's own MD5 digest, in parallel."""
    md5 = hashlib.md5()
    await _update_all((running.sha256, md5), part)
    running.size += len(part)
    return md5.digest()


def composite_etag(part_md5s: Sequence[bytes]) -> str:
    """The ETag S3 gives an object completed from these parts."""
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest()}-{len(part_md5s)}"


def is_plain_md5(etag: str | None) -> bool:
    return etag is not None and bool(_MD5_HEX.match(etag.lower()))


def is_multipart_etag(etag: str | None) -> bool:
    return etag is not None and bool(_MULTIPART.match(etag.lower()))
