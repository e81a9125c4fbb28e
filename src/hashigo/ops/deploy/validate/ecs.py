"""ECS task definitions and services against botocore's service model: the same parameter validation the
AWS CLI runs before `aws ecs register-task-definition --cli-input-json` / `create-service` sends anything."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from hashigo.ops.deploy.validate.report import FileReport
from hashigo.ops.deploy.validate.secrets import SECRET_VARIABLES

_OPERATIONS = {"ecs-task-definition": "RegisterTaskDefinition", "ecs-service": "CreateService"}
_REFERENCE = re.compile(r"^arn:aws:(ssm:[a-z0-9-]+:[^:]+:parameter/|secretsmanager:[a-z0-9-]+:[^:]+:secret:)")


@cache
def _shape(operation: str) -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model(operation).input_shape


def check_ecs(report: FileReport, data: Any) -> None:
    from botocore.validate import ParamValidator

    operation = _OPERATIONS[report.kind]
    label = f"botocore ecs {operation}"
    report.ran(label)
    if not isinstance(data, dict):
        report.error(label, "expected a JSON object")
        return
    result = ParamValidator().validate(data, _shape(operation))
    if result.has_errors():
        for line in result.generate_report().splitlines():
            report.error(label, line.strip())
    if report.kind == "ecs-task-definition":
        _task_rules(report, data)


def _task_rules(report: FileReport, data: dict[str, Any]) -> None:
    label = "task definition rules"
    report.ran(label)
    if "FARGATE" not in (data.get("requiresCompatibilities") or []):
        report.error(label, "requiresCompatibilities must include FARGATE")
    for container in data.get("containerDefinitions") or []:
        name = container.get("name")
        for var in container.get("environment") or []:
            if var.get("name") in SECRET_VARIABLES:
                report.error(label, f"container {name}: {var['name']} is in environment; put it in secrets "
                                    f"(valueFrom an SSM parameter or a Secrets Manager secret)")
        for secret in container.get("secrets") or []:
            if not _REFERENCE.match(str(secret.get("valueFrom", ""))):
                report.error(label, f"container {name}: secret {secret.get('name')} valueFrom is not an SSM "
                                    f"parameter or Secrets Manager ARN")
        if (container.get("logConfiguration") or {}).get("logDriver") != "awslogs":
            report.error(label, f"container {name}: logs should go to CloudWatch (logDriver awslogs)")
        if not container.get("healthCheck"):
            report.error(label, f"container {name}: no healthCheck")
        if str(container.get("user", "")).split(":")[0] in {"", "0", "root"}:
            report.error(label, f"container {name}: runs as root; set user to a non-root uid")
