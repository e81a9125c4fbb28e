"""Render targets into files: Jinja2 templates shipped as package data (src/hashigo/data/deploy/templates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

import jinja2

from hashigo.ops.deploy import sizing
from hashigo.ops.deploy.choose import build_config
from hashigo.ops.deploy.config import ENVS, DeployConfig, Options
from hashigo.ops.deploy.context import names, plain_environment, template_context
from hashigo.ops.deploy.plan_input import PlanView

GENERATED_BY = "hashigo deploy render"


def _github_expression(expr: str) -> str:
    """`${{ expr }}` for GitHub Actions, written without fighting Jinja's own braces."""
    return "${{ " + expr + " }}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hashigo", "data/deploy/templates"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False, extensions=["jinja2.ext.do"])
    env.globals["gh"] = _github_expression
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.filters["tf"] = _hcl_value
    return env


def _hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_hcl_value(v) for v in value) + "]"
    return json.dumps(str(value))


_ENV = _environment()


def _files(pairs: list[tuple[str, str]], context: dict[str, Any]) -> dict[str, str]:
    return {out: _ENV.get_template(template).render(**context) for out, template in pairs}


def _container(cfg: DeployConfig) -> dict[str, str]:
    return _files([("Dockerfile", "container/Dockerfile.j2"), (".dockerignore", "container/dockerignore.j2"),
                   ("Dockerfile.dockerignore", "container/dockerignore.j2")], template_context(cfg))


def _compose(cfg: DeployConfig) -> dict[str, str]:
    context = template_context(cfg, bucket=names(cfg).bucket)
    return _files([("docker-compose.yml", "compose/docker-compose.yml.j2"),
                   ("docker-compose.redis.yml", "compose/docker-compose.redis.yml.j2"),
                   ("docker-compose.production.yml", "compose/docker-compose.production.yml.j2")], context)


def _launch(template: str, out: str) -> Callable[[DeployConfig], dict[str, str]]:
    def render(cfg: DeployConfig) -> dict[str, str]:
        return _files([(out, template)], template_context(
            cfg, env=plain_environment(cfg), fly_memory_mb=sizing.fly_memory_mb(cfg.compute.memory_gb)))
    return render


def _cloudrun(cfg: DeployConfig) -> dict[str, str]:
    n = names(cfg)
    cpu, memory = sizing.cloud_run_size(cfg.compute.vcpu, cfg.compute.memory_gb)
    context = template_context(cfg, env=plain_environment(cfg, f"gs://{n.bucket}"), cloud_run_cpu=cpu,
                               cloud_run_memory=memory)
    pairs = [(f"cloudrun/{name}", f"cloudrun/{name}.j2")
             for name in ("service.yaml", "deploy.sh", "cloudbuild.yaml", "cors.json", "lifecycle.json")]
    return _files(pairs, context)


TF_MODULES = ("network", "security", "compute", "database", "storage", "monitoring")


def _aws(cfg: DeployConfig, plan: PlanView | None, options: Options) -> dict[str, str]:
    files: dict[str, str] = {}
    configs = {env: cfg if env == cfg.env else build_config("aws", replace(options, env=env), plan) for env in ENVS}
    for env, env_cfg in configs.items():
        n = names(env_cfg)
        cpu, memory = sizing.fargate_size(env_cfg.compute.vcpu, env_cfg.compute.memory_gb)
        context = template_context(env_cfg, env=plain_environment(env_cfg, f"s3://{n.bucket}"), modules=TF_MODULES,
                                   fargate_cpu=cpu, fargate_memory=memory)
        files |= _files([(f"aws/ecs/{env}/task-definition.json", "aws/ecs/task-definition.json.j2"),
                         (f"aws/ecs/{env}/service.json", "aws/ecs/service.json.j2"),
                         (f"aws/policies/{env}/task-role.json", "aws/policies/task-role.json.j2"),
                         (f"aws/policies/{env}/execution-role.json", "aws/policies/execution-role.json.j2"),
                         (f"aws/policies/{env}/deploy-role.json", "aws/policies/deploy-role.json.j2"),
                         (f"aws/policies/{env}/bucket-policy.json", "aws/policies/bucket-policy.json.j2"),
                         (f"aws/terraform/live/{env}/env.hcl", "aws/terraform/live/env.hcl.j2")], context)
        for module in TF_MODULES:
            files[f"aws/terraform/live/{env}/{module}/terragrunt.hcl"] = _ENV.get_template(
                f"aws/terraform/live/{module}.hcl.j2").render(**context)
    context = template_context(cfg, modules=TF_MODULES)
    files["aws/terraform/live/root.hcl"] = _ENV.get_template("aws/terraform/live/root.hcl.j2").render(**context)
    for module in TF_MODULES:
        for part in ("main", "variables", "outputs"):
            files[f"aws/terraform/modules/{module}/{part}.tf"] = _ENV.get_template(
                f"aws/terraform/modules/{module}/{part}.tf.j2").render(**context)
    return files


def _github_actions(cfg: DeployConfig) -> dict[str, str]:
    n = names(cfg)
    return _files([(".github/workflows/deploy.yml", "github-actions/deploy.yml.j2")],
                  template_context(cfg, bucket=n.bucket))


def render_target(target: str, cfg: DeployConfig, plan: PlanView | None, options: Options) -> dict[str, str]:
    """Relative path → file text for one target."""
    if target == "aws":
        return _aws(cfg, plan, options)
    renderers: dict[str, Callable[[DeployConfig], dict[str, str]]] = {
        "container": _container, "compose": _compose, "fly": _launch("fly/fly.toml.j2", "fly.toml"),
        "render": _launch("render/render.yaml.j2", "render.yaml"),
        "railway": _launch("railway/railway.toml.j2", "railway.toml"), "cloudrun": _cloudrun,
        "github-actions": _github_actions}
    return renderers[target](cfg)


_DESCRIPTIONS = (
    ("README.md", "this guide"),
    ("Dockerfile", "multi-stage image: non-root user, health check"),
    (".dockerignore", "what stays out of the build context"),
    ("Dockerfile.dockerignore", "the same, for BuildKit with this Dockerfile"),
    ("docker-compose.yml", "local development: SQLite, files on a volume"),
    ("docker-compose.redis.yml", "staging overlay: + Redis"),
    ("docker-compose.production.yml", "production overlay: Redis 256 MB allkeys-lru, S3, PostgreSQL"),
    ("fly.toml", "Fly.io app: region, release command, health check, autoscaling"),
    ("render.yaml", "Render Blueprint: web service and sessions sweep"),
    ("railway.toml", "Railway config as code"),
    ("cloudrun/service.yaml", "Cloud Run service (Knative): scaling, concurrency, affinity, Secret Manager"),
    ("cloudrun/deploy.sh", "the gcloud commands: setup, secrets, deploy"),
    ("cloudrun/cloudbuild.yaml", "Cloud Build: the image"),
    ("cloudrun/cors.json", "bucket CORS"),
    ("cloudrun/lifecycle.json", "bucket lifecycle rules"),
    ("task-definition.json", "ECS Fargate task definition (secrets from SSM, awslogs)"),
    ("service.json", "ECS service (aws ecs create-service --cli-input-json)"),
    ("task-role.json", "IAM: what the service may do (S3 objects of its bucket)"),
    ("execution-role.json", "IAM: what ECS may do to start it (image, secrets, logs)"),
    ("deploy-role.json", "IAM: what GitHub Actions may do to deploy"),
    ("bucket-policy.json", "S3 bucket policy: TLS only"),
    ("root.hcl", "Terragrunt: state backend and provider"),
    ("env.hcl", "Terragrunt: the environment's name and region"),
    ("terragrunt.hcl", "Terragrunt unit: module inputs"),
    (".tf", "Terraform module"),
    ("deploy.yml", "GitHub Actions: test, build, deploy"),
)


def describe(path: str) -> str:
    return next((text for suffix, text in _DESCRIPTIONS if path == suffix or path.endswith(("/" + suffix, suffix))),
                "")


def render_readme(configs: list[DeployConfig], files: list[str], plan: PlanView | None) -> str:
    paths = sorted(str(PurePosixPath(f)) for f in [*files, "README.md"])
    return _ENV.get_template("README.md.j2").render(configs=configs, files=paths, plan=plan, describe=describe,
                                                     targets=[c.target for c in configs], names=names)
