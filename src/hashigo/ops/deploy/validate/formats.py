"""Checks of the YAML, TOML and JSON files each platform reads: parse, schema, then hashigo's rules."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

import yaml

from hashigo.ops.deploy.regions import codes
from hashigo.ops.deploy.validate import schemas
from hashigo.ops.deploy.validate.report import FileReport
from hashigo.ops.deploy.validate.secrets import SECRET_VARIABLES, literal_secret


def parse(report: FileReport, text: str, fmt: str) -> Any:
    label = f"{fmt} parse"
    report.ran(label)
    try:
        if fmt == "yaml":
            return yaml.safe_load(text)
        if fmt == "toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        report.error(label, str(exc).splitlines()[0][:300])
        return None


def check_compose(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.vendored("compose-spec"), schemas.VENDORED["compose-spec"])
    for name, service in (data.get("services") or {}).items():
        environment = service.get("environment") or {}
        items = environment.items() if isinstance(environment, dict) else (
            (*str(e).split("=", 1), "") for e in environment)
        for key, value, *_ in items:
            if key in SECRET_VARIABLES and isinstance(value, str) and value and not value.startswith("${") \
                    and not value.startswith("redis://redis:"):
                report.error("no secret values", f"services.{name}.environment.{key} is a value; use ${{{key}}} "
                                                 f"interpolation from the environment or .env")
    if report.path.endswith("docker-compose.production.yml"):
        command = " ".join(str(c) for c in ((data.get("services") or {}).get("redis") or {}).get("command") or [])
        report.ran("seed 003 Redis limits")
        if "--maxmemory 256mb" not in command or "--maxmemory-policy allkeys-lru" not in command:
            report.error("seed 003 Redis limits", "services.redis.command needs --maxmemory 256mb and "
                                                  "--maxmemory-policy allkeys-lru (seed 003 §コスト最適化)")


def check_fly(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.own("fly"), "fly.toml schema (hashigo subset)")
    region = data.get("primary_region")
    report.ran("fly rules")
    if region not in codes("fly").values():
        report.error("fly rules", f"primary_region {region!r} is not a Fly.io region hashigo knows: "
                                  f"{', '.join(codes('fly').values())}")
    for key, value in (data.get("env") or {}).items():
        if key in SECRET_VARIABLES:
            report.error("fly rules", f"[env] {key} = {value!r}: secrets go in `fly secrets set`, not fly.toml")
    if not (data.get("http_service") or {}).get("checks"):
        report.error("fly rules", "http_service has no health check")


def check_render(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.own("render-blueprint"), "render.yaml schema (hashigo subset)")
    report.ran("render rules")
    for service in data.get("services") or []:
        for var in service.get("envVars") or []:
            if literal_secret(var.get("key", ""), var.get("value")):
                report.error("render rules", f"service {service.get('name')}: envVars {var['key']} has a value; use "
                                             f"sync: false, generateValue or fromService")
        if service.get("type") == "web" and not service.get("healthCheckPath"):
            report.error("render rules", f"service {service.get('name')} has no healthCheckPath")
    report.add("note", "render rules", "Render has no region in Japan; Singapore is the nearest")


def check_railway(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.own("railway"), "railway.toml schema (hashigo subset)")
    report.ran("railway rules")
    known = set(codes("railway").values())
    for region in ((data.get("deploy") or {}).get("multiRegionConfig") or {}):
        if region not in known:
            report.error("railway rules", f"deploy.multiRegionConfig: unknown region {region!r}; known: "
                                          f"{', '.join(sorted(known))}")


_KNOWN_ANNOTATIONS = re.compile(
    r"^(autoscaling\.knative\.dev/(minScale|maxScale)|run\.googleapis\.com/(ingress|cpu-throttling|startup-cpu-boost|"
    r"sessionAffinity|execution-environment|cloudsql-instances|network-interfaces|vpc-access-egress|"
    r"vpc-access-connector|launch-stage|description|binary-authorization|encryption-key|secrets))$")


def check_knative(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.own("knative-service"), "Cloud Run service schema (hashigo subset)")
    report.ran("cloud run rules")
    template = (data.get("spec") or {}).get("template") or {}
    annotations = {**((data.get("metadata") or {}).get("annotations") or {}),
                   **((template.get("metadata") or {}).get("annotations") or {})}
    for key in annotations:
        if not _KNOWN_ANNOTATIONS.match(key):
            report.error("cloud run rules", f"annotation {key!r} is not one Cloud Run reads")
    try:
        low = int(annotations.get("autoscaling.knative.dev/minScale", "0"))
        high = int(annotations.get("autoscaling.knative.dev/maxScale", "100"))
        if low > high:
            report.error("cloud run rules", f"minScale {low} is above maxScale {high}")
    except ValueError:
        report.error("cloud run rules", "minScale and maxScale must be whole numbers")
    for container in (template.get("spec") or {}).get("containers") or []:
        for var in container.get("env") or []:
            if literal_secret(var.get("name", ""), var.get("value")):
                report.error("cloud run rules", f"env {var['name']} has a value; use valueFrom.secretKeyRef "
                                                f"(Secret Manager)")


def check_workflow(report: FileReport, data: Any) -> None:
    # PyYAML reads the `on:` key as True (YAML 1.1); GitHub reads it as "on".
    if isinstance(data, dict) and True in data:
        data = {("on" if k is True else k): v for k, v in data.items()}
    schemas.check(report, data, schemas.vendored("github-workflows"), schemas.VENDORED["github-workflows"])
    report.ran("workflow secrets")
    for job_name, job in (data.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            for section in ("env", "with"):
                for key, value in (step.get(section) or {}).items():
                    secretish = re.search(r"(TOKEN|SECRET|PASSWORD|PRIVATE|_KEY$|password)", str(key))
                    if secretish and isinstance(value, str) and "${{" not in value:
                        report.error("workflow secrets", f"jobs.{job_name}: {section}.{key} is a literal; use "
                                                         f"${{{{ secrets.NAME }}}}")


def check_cloudbuild(report: FileReport, data: Any) -> None:
    schemas.check(report, data, schemas.vendored("cloudbuild"), schemas.VENDORED["cloudbuild"])


def _gcs(kind: str) -> Callable[[FileReport, Any], None]:
    def check(report: FileReport, data: Any) -> None:
        schema = {**schemas.own("gcs"), "$ref": f"#/definitions/{kind}"}
        schemas.check(report, data, schema, f"Cloud Storage {kind} schema")
    return check


CHECKERS: dict[str, tuple[str, Callable[[FileReport, Any], None]]] = {
    "compose": ("yaml", check_compose), "fly": ("toml", check_fly), "render": ("yaml", check_render),
    "railway": ("toml", check_railway), "cloudrun-service": ("yaml", check_knative),
    "github-workflow": ("yaml", check_workflow), "cloudbuild": ("yaml", check_cloudbuild),
    "gcs-cors": ("json", _gcs("cors")), "gcs-lifecycle": ("json", _gcs("lifecycle")),
}


def check_structured(report: FileReport, text: str) -> None:
    fmt, checker = CHECKERS[report.kind]
    data = parse(report, text, fmt)
    if data is None and not report.errors:
        report.error(f"{fmt} parse", "the file is empty")
    if isinstance(data, dict | list) and not report.errors:
        checker(report, data)
