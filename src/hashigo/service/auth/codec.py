"""One ``TokenCodec`` per ``Settings`` object, built on first use (keys are read once)."""

from __future__ import annotations

from hashigo.service.auth.tokens import TokenCodec
from hashigo.settings import Settings

_codecs: dict[int, tuple[Settings, TokenCodec]] = {}


def codec_for(settings: Settings) -> TokenCodec:
    """Raises ``ConfigError`` for unusable keys (``create_app`` calls it so that shows at start-up)."""
    entry = _codecs.get(id(settings))
    if entry is None or entry[0] is not settings:
        entry = (settings, TokenCodec.from_settings(settings))
        _codecs[id(settings)] = entry
    return entry[1]
