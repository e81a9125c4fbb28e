"""Which keys a migration covers: ``--prefix`` (a folder), ``--include`` and ``--exclude`` (globs)."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from hashigo.errors import ConfigError
from hashigo.storage import InvalidKey
from hashigo.storage.keys import validate_prefix

PATTERN_HELP = ("glob patterns on the whole key ('*' also crosses '/'); a pattern without '/' also matches "
                "the last segment, so '*.jpg' matches 'a/b/c.jpg'")


@dataclass(frozen=True, slots=True)
class KeyFilter:
    prefix: str = ""
    """Listed folder, without the trailing '/' ("" for everything)."""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def build(cls, prefix: str | None, include: list[str] | None, exclude: list[str] | None) -> KeyFilter:
        try:
            folder = validate_prefix(prefix or "")
        except InvalidKey as exc:
            raise ConfigError(f"--prefix: {exc}") from None
        for flag, patterns in (("--include", include), ("--exclude", exclude)):
            for pattern in patterns or ():
                if not pattern or pattern != pattern.strip():
                    raise ConfigError(f"{flag} {pattern!r} is empty or has surrounding spaces; "
                                      f"accepted: {PATTERN_HELP}")
        return cls(folder, tuple(include or ()), tuple(exclude or ()))

    def matches(self, key: str) -> bool:
        if self.prefix and not key.startswith(self.prefix + "/"):
            return False
        if self.include and not any(_match(key, p) for p in self.include):
            return False
        return not any(_match(key, p) for p in self.exclude)

    def describe(self) -> dict[str, object]:
        return {"prefix": self.prefix, "include": list(self.include), "exclude": list(self.exclude)}


def _match(key: str, pattern: str) -> bool:
    if fnmatchcase(key, pattern):
        return True
    return "/" not in pattern and fnmatchcase(key.rsplit("/", 1)[-1], pattern)
