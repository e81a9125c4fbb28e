"""What one rendered deployment needs: names, region, sizes, lifecycle, each from the plan or the flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from hashigo.ops.deploy.errors import DeployInputError

Env = Literal["staging", "production"]
ENVS: tuple[Env, ...] = ("staging", "production")
TARGETS = ("container", "compose", "fly", "render", "railway", "cloudrun", "aws", "github-actions")
PLATFORM_TARGETS = ("fly", "render", "railway", "cloudrun", "aws")
# Names `hashigo plan` prints in its migration steps (the catalog's deploy_target), accepted as well.
ALIASES = {"ecs-fargate": "aws", "cloud-run": "cloudrun", "docker": "container", "github": "github-actions"}
CI_TARGETS = ("container", *PLATFORM_TARGETS)

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


def parse_targets(value: str) -> list[str]:
    if value == "all":
        return list(TARGETS)
    chosen: list[str] = []
    for raw in value.split(","):
        name = ALIASES.get(raw.strip(), raw.strip())
        if name not in TARGETS:
            raise DeployInputError([f"--target {raw.strip()!r} is not a target; accepted: {', '.join(TARGETS)}, all "
                                    f"(or several, comma-separated)"])
        if name not in chosen:
            chosen.append(name)
    return chosen


def check_app_name(name: str) -> str:
    if not _APP_NAME.match(name):
        raise DeployInputError([f"--app {name!r}: use 3-40 lowercase letters, digits and hyphens, starting with a "
                                f"letter (it names buckets, services and log groups)"])
    return name


@dataclass(frozen=True)
class Options:
    """The command line of `deploy render`; None means: from the plan, else the default."""

    env: Env = "production"
    app: str | None = None
    region: str | None = None
    phase: str | None = None
    vcpu: float | None = None
    memory_gb: float | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    websocket: bool | None = None
    billing: Literal["instance", "request"] | None = None
    session_files_days: int = 7
    allowed_origins: tuple[str, ...] = ()
    github_repo: str = "OWNER/REPO"
    deploy_to: str | None = None
    image_tag: str = "latest"
    out_dir: str = "deploy"  # the output folder, relative to the repository root (the build context)


@dataclass(frozen=True)
class Compute:
    vcpu: float
    memory_gb: float
    min_instances: int
    max_instances: int
    concurrency: int
    entry: str | None = None
    size_name: str | None = None  # the platform's name for the size (render plan, fly size)


@dataclass(frozen=True)
class Database:
    min_acu: float
    max_acu: float
    multi_az: bool
    backup_days: int
    entry: str | None = None


@dataclass(frozen=True)
class Cache:
    node_type: str
    nodes: int
    memory_gb: float


@dataclass(frozen=True)
class Lifecycle:
    session_files_days: int
    ia_after_days: int = 30
    glacier_after_days: int = 90
    abort_multipart_days: int = 7


@dataclass(frozen=True)
class DeployConfig:
    target: str
    app: str
    env: Env
    region: str
    region_code: str
    compute: Compute
    database: Database
    cache: Cache
    lifecycle: Lifecycle
    websocket: bool
    ha: bool
    allowed_origins: tuple[str, ...]
    github_repo: str
    deploy_to: str
    source: str  # "flags" or "plan.json, phase growth"
    phase: str | None = None
    billing: Literal["instance", "request"] = "instance"
    image_tag: str = "latest"
    port: int = 8000
    out_dir: str = "deploy"
    warnings: tuple[str, ...] = field(default=())

    @property
    def root_from_out(self) -> str:
        """The repository root seen from the output folder ("..", "../..", or ".")."""
        depth = 0 if self.out_dir in ("", ".") else len(self.out_dir.split("/"))
        return "/".join([".."] * depth) or "."

    def in_repo(self, name: str) -> str:
        """A file of the output folder, as a path from the repository root."""
        return name if self.out_dir in ("", ".") else f"{self.out_dir}/{name}"

    @property
    def name(self) -> str:
        """The deployment's name: the app, and the environment unless it is production."""
        return self.app if self.env == "production" else f"{self.app}-{self.env}"

    @property
    def production(self) -> bool:
        return self.env == "production"

    def name_for(self, env: Env) -> str:
        return self.app if env == "production" else f"{self.app}-{env}"
