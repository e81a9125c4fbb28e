"""How copying one object can fail, sorted by what the run does about it."""

from __future__ import annotations

from hashigo.errors import HashigoError


class TransientCopyError(HashigoError):
    """Worth another attempt after a pause: the bytes or the connection went wrong this time."""


class VerificationFailed(TransientCopyError):
    """The destination does not hold the bytes read from the source."""


class SourceTruncated(TransientCopyError):
    """The source stream ended before the size it announced."""


class SourceChanged(TransientCopyError):
    """The source object changed while it was being copied (or since its upload was started)."""


class SourceVanished(HashigoError):
    """The source object was listed but is gone now; nothing to copy, and nothing to retry."""
