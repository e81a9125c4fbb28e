"""IAM and bucket policies: the policy grammar (a JSON schema), Parliament's checks against the IAM
action/resource catalogue (unknown actions, resources of the wrong type, malformed statements), and
hashigo's least-privilege rules for Allow statements: no wildcard actions, and no `*` resource for an
action that can name its resource (a bucket, a parameter path, a repository)."""

from __future__ import annotations

import json
import re
from typing import Any

from hashigo.ops.deploy.validate import schemas
from hashigo.ops.deploy.validate.report import FileReport

_TEMPLATE_VARS = re.compile(r"\$\{([a-z_]+)\}")
_EXAMPLE = {"account_id": "123456789012",
            "distribution_arn": "arn:aws:cloudfront::123456789012:distribution/EXAMPLE"}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statement = policy.get("Statement")
    return [statement] if isinstance(statement, dict) else list(statement or [])


def _resource_types(action: str) -> list[str] | None:
    """The resource types an action can be scoped to (empty: none, it needs `*`); None if unknown."""
    from parliament import iam_definition

    prefix, _, name = action.partition(":")
    for service in iam_definition:
        if service["prefix"] == prefix:
            for privilege in service["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return [r["resource_type"] for r in privilege["resource_types"] if r["resource_type"]]
    return None


def _least_privilege(report: FileReport, policy: dict[str, Any]) -> None:
    label = "least privilege"
    report.ran(label)
    for index, statement in enumerate(_statements(policy)):
        if statement.get("Effect") != "Allow":
            continue
        where = f"Statement[{index}] {statement.get('Sid', '')}".strip()
        if "NotAction" in statement or "NotResource" in statement:
            report.error(label, f"{where}: Allow with NotAction/NotResource grants everything else")
        actions = _listed(statement.get("Action"))
        for action in actions:
            if "*" in action or "?" in action:
                report.error(label, f"{where}: wildcard action {action!r}; list the actions the service uses")
        if "*" in _listed(statement.get("Resource")):
            scoped = [a for a in actions if "*" not in a and (_resource_types(a) or [])]
            if scoped:
                report.error(label, f"{where}: Resource \"*\" for {', '.join(scoped)}, which can name its "
                                    f"resource; name it (bucket, parameter path, repository, service)")
        if statement.get("Principal") == "*":
            report.error(label, f"{where}: Allow to every principal (\"*\")")


def _parliament(report: FileReport, text: str) -> None:
    label = "Parliament (IAM catalogue)"
    try:
        from parliament import analyze_policy_string
    except ImportError as exc:  # parliament imports pkg_resources, which new setuptools releases drop
        report.add("warning", label, f"not run: parliament cannot be imported ({exc})")
        return
    filled = _TEMPLATE_VARS.sub(lambda m: _EXAMPLE.get(m.group(1), m.group(0)), text)
    report.ran(label)
    for finding in analyze_policy_string(filled, include_community_auditors=False).findings:
        detail = json.dumps(finding.detail, ensure_ascii=False)[:200] if finding.detail else ""
        report.error(label, f"{finding.issue}: {finding.title} {detail}".strip())


def check_policy(report: FileReport, data: Any, text: str) -> None:
    schemas.check(report, data, schemas.own("iam-policy"), "IAM policy grammar")
    if report.errors:
        return
    unknown = sorted(set(_TEMPLATE_VARS.findall(text)) - set(_EXAMPLE))
    if unknown:
        report.error("IAM policy grammar", f"unknown template variables {unknown}; Terragrunt fills in only "
                                           f"{sorted(_EXAMPLE)}")
    _parliament(report, text)
    _least_privilege(report, data)
    if report.kind == "bucket-policy":
        denies_plain_http = any(
            s.get("Effect") == "Deny" and (s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
            == "false" for s in _statements(data))
        report.ran("bucket rules")
        if not denies_plain_http:
            report.error("bucket rules", "no statement denies requests without TLS (aws:SecureTransport false)")
