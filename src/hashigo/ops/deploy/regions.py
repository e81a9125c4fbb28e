"""The app's region (plan names: tokyo, singapore, …) as each platform spells it, or the nearest it has."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hashigo.ops.deploy.errors import DeployInputError

# The platform whose region codes a target uses.
PLATFORM_OF_TARGET = {"fly": "fly", "render": "render", "railway": "railway", "cloudrun": "gcp", "aws": "aws"}
PLATFORM_NAMES = {"fly": "Fly.io", "render": "Render", "railway": "Railway", "gcp": "Google Cloud", "aws": "AWS"}


@dataclass(frozen=True)
class Region:
    name: str  # hashigo's name (tokyo)
    code: str  # the platform's code (ap-northeast-1, nrt, …)
    note: str | None = None  # set when the platform lacks the app's region and this is the nearest


@cache
def _table() -> dict[str, Any]:
    text = resources.files("hashigo").joinpath("data", "deploy", "regions.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def codes(platform: str) -> dict[str, str]:
    platforms: dict[str, dict[str, str]] = _table()["platforms"]
    return platforms[platform]


def _accepted(platform: str) -> str:
    return ", ".join(f"{name} ({code})" for name, code in codes(platform).items())


def resolve_region(target: str, wanted: str, *, explicit: bool) -> Region:
    """``wanted`` is a plan region name or the platform's own code. Explicit and missing → error;
    from the plan or the default and missing → the nearest region the platform has, with a note."""
    platform = PLATFORM_OF_TARGET[target]
    table = codes(platform)
    if wanted in table:
        return Region(wanted, table[wanted])
    by_code = {code: name for name, code in table.items()}
    if wanted in by_code:
        return Region(by_code[wanted], wanted)
    shown = PLATFORM_NAMES[platform]
    if explicit:
        raise DeployInputError([f"--region {wanted}: {shown} has no such region (target {target}); "
                                f"accepted: {_accepted(platform)}"])
    for near in _table()["nearest"].get(wanted, []):
        if near in table:
            japan = " (it has no region in Japan)" if wanted in {"tokyo", "osaka"} else ""
            return Region(near, table[near], f"{shown} has no {wanted} region{japan}: using {near} "
                                             f"({table[near]}), the nearest it has")
    raise DeployInputError([f"region {wanted}: {shown} has no such region and none near it (target {target}); "
                            f"pass --region with one of: {_accepted(platform)}"])
