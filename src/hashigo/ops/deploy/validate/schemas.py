"""JSON-schema checks: check-jsonschema's vendored schemas (compose, GitHub workflows, Cloud Build) and
hashigo's own, shipped in src/hashigo/data/deploy/schemas (their $comment says where each came from)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from hashigo.ops.deploy.validate.report import FileReport

VENDORED = {"compose-spec": "check-jsonschema compose-spec", "github-workflows": "check-jsonschema github-workflows",
            "cloudbuild": "check-jsonschema cloudbuild"}


@cache
def vendored(name: str) -> dict[str, Any]:
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def own(name: str) -> dict[str, Any]:
    text = resources.files("hashigo").joinpath("data", "deploy", "schemas", f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(top level)"


def check(report: FileReport, data: Any, schema: dict[str, Any], label: str) -> None:
    """Every violation, each with its location; oneOf failures show their best match, not the whole union."""
    report.ran(label)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        best = jsonschema.exceptions.best_match([error])
        report.error(label, f"{_where(best)}: {best.message[:300]}")
