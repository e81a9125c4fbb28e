"""Values the templates share: resource names, the service's environment, and where each secret lives.

The service reads exactly these variables (src/hashigo/settings.py, settings_aliases.py). Secrets are
never values here: each platform gets a reference to its own secret store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hashigo.ops.deploy.config import DeployConfig

SECRET_NAMES = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY"]
# On the launch platforms the object store is an S3-compatible service of the user's choosing (R2,
# Supabase Storage): its URL, endpoint and keys are set as platform secrets, never written here.
LAUNCH_STORAGE_SECRETS = ["STORAGE_URL", "STORAGE_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]


@dataclass(frozen=True)
class Names:
    base: str
    bucket: str
    ssm_prefix: str
    log_group: str
    ecr_repository: str
    execution_role: str
    task_role: str
    deploy_role: str
    gcp_secret_prefix: str


def names(cfg: DeployConfig) -> Names:
    base = cfg.name
    return Names(base=base, bucket=f"{base}-files", ssm_prefix=f"/{cfg.app}/{cfg.env}",
                 log_group=f"/ecs/{base}", ecr_repository=cfg.app, execution_role=f"{base}-task-execution",
                 task_role=f"{base}-task", deploy_role=f"{base}-deploy", gcp_secret_prefix=base)


def plain_environment(cfg: DeployConfig, storage_url: str | None = None) -> dict[str, str]:
    """Variables that are not secret, in the order the templates print them."""
    env = {"HASHIGO_ENV": cfg.env, "HASHIGO_HOST": "0.0.0.0"}
    if storage_url is not None:
        env["STORAGE_URL"] = storage_url
    if cfg.target in ("aws", "compose") or (cfg.target == "github-actions" and cfg.deploy_to == "aws"):
        env["AWS_REGION"] = cfg.region_code
    env["SESSION_FILES_LIFECYCLE_DAYS"] = str(cfg.lifecycle.session_files_days)
    env["ALLOWED_ORIGINS"] = ",".join(cfg.allowed_origins)
    env["LOG_FORMAT"] = "json"
    return env


def template_context(cfg: DeployConfig, **extra: Any) -> dict[str, Any]:
    n = names(cfg)
    return {"cfg": cfg, "n": n, "secret_names": SECRET_NAMES, "launch_storage_secrets": LAUNCH_STORAGE_SECRETS,
            "health_path": "/healthz", "ready_path": "/readyz", "ws_path": "/api/v1/ws", **extra}
