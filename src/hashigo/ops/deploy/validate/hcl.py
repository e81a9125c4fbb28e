"""Terraform modules and Terragrunt units, parsed with python-hcl2 and checked against each other.

Per module: every `var.X`, `local.X`, `aws_T.N`, `data.aws_T.N` it references is declared in it, and every
resource and data source argument is one the AWS provider documents (the pinned list in
src/hashigo/data/deploy/aws_arguments.yaml). Per Terragrunt unit: its module exists, its inputs are variables
the module declares, every variable without a default gets a value, each dependency's unit exists and
declares the outputs used (and mocked), and the files it reads (file(), templatefile()) exist with no
template variable left unfilled. `terraform validate` itself needs the provider binary from the registry,
which cannot be downloaded offline; this is what can be checked without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import hcl2
import yaml

from hashigo.ops.deploy.validate.report import FileReport

_META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "dynamic"}
REF = re.compile(r"(?<![\w.])(var|local|module|dependency)\.([A-Za-z0-9_-]+)"
                  r"(?:\.([A-Za-z0-9_-]+)\.?([A-Za-z0-9_-]+)?)?")
_RESOURCE_REF = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")
TEMPLATE_VAR = re.compile(r"\$\{([a-z_]+)\}")


def label(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() if not str(k).startswith("__") for s in strings(v)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def _expressions(node: Any) -> list[str]:
    """Only the expression parts: literal text (quoted strings without ${) cannot reference anything."""
    return [s for s in strings(node) if "${" in s]


@cache
def pinned_arguments() -> dict[str, dict[str, Any]]:
    text = resources.files("hashigo").joinpath("data", "deploy", "aws_arguments.yaml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def _spec(items: list[Any]) -> dict[str, list[Any] | None]:
    found: dict[str, list[Any] | None] = {}
    for item in items:
        if isinstance(item, dict):
            found.update(item)
        else:
            found[str(item)] = None
    return found


def _check_arguments(report: FileReport, where: str, body: dict[str, Any], items: list[Any]) -> None:
    allowed = _spec(items)
    for key, value in body.items():
        if key.startswith("__") or key in _META - {"dynamic"}:
            continue
        if key == "dynamic":
            for block in value if isinstance(value, list) else [value]:
                for name in block:
                    if label(name) not in allowed:
                        report.error("provider arguments", f"{where}: dynamic block {label(name)!r} is not a block "
                                                           f"of this resource")
            continue
        if key not in allowed:
            report.error("provider arguments", f"{where}: {key!r} is not an argument of this resource "
                                               f"(hashigo's pinned list: {', '.join(sorted(allowed))})")
            continue
        nested = allowed[key]
        if nested is not None:
            for block in value if isinstance(value, list) else [value]:
                if isinstance(block, dict):
                    _check_arguments(report, f"{where}.{key}", block, nested)


@dataclass
class Module:
    path: Path
    variables: dict[str, bool] = field(default_factory=dict)  # name → has a default
    outputs: set[str] = field(default_factory=set)
    locals: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    data: set[str] = field(default_factory=set)
    bodies: list[tuple[FileReport, dict[str, Any]]] = field(default_factory=list)


def collect(module: Module, report: FileReport, tree: dict[str, Any]) -> None:
    module.bodies.append((report, tree))
    for block in tree.get("variable", []):
        for name, body in block.items():
            module.variables[label(name)] = "default" in body
    for block in tree.get("output", []):
        module.outputs.update(label(name) for name in block)
    for block in tree.get("locals", []):
        module.locals.update(k for k in block if not k.startswith("__"))
    for kind, target in (("resource", module.resources), ("data", module.data)):
        for block in tree.get(kind, []):
            for rtype, named in block.items():
                target.update(f"{label(rtype)}.{label(n)}" for n in named if not n.startswith("__"))


def check_module(module: Module) -> None:
    pinned = pinned_arguments()
    for report, tree in module.bodies:
        report.ran("references")
        for text in _expressions(tree):
            for kind, name, *_ in REF.findall(text):
                if kind == "var" and name not in module.variables:
                    report.error("references", f"var.{name} is not a variable of module {module.path.name}")
                if kind == "local" and name not in module.locals:
                    report.error("references", f"local.{name} is not defined in module {module.path.name}")
            for is_data, rtype, name in _RESOURCE_REF.findall(text):
                declared = module.data if is_data else module.resources
                if f"{rtype}.{name}" not in declared:
                    report.error("references", f"{is_data}{rtype}.{name} is not declared in module {module.path.name}")
        report.ran("provider arguments")
        for kind, section in (("resource", "resources"), ("data", "data_sources")):
            for block in tree.get(kind, []):
                for rtype, named in block.items():
                    items = pinned[section].get(label(rtype))
                    for name, body in named.items():
                        if name.startswith("__"):
                            continue
                        where = f"{label(rtype)}.{label(name)}"
                        if items is None:
                            report.error("provider arguments", f"{where}: {label(rtype)} is not in hashigo's pinned "
                                                               f"list of AWS {section.replace('_', ' ')}")
                        else:
                            _check_arguments(report, where, body, items)


def parse(report: FileReport, text: str) -> dict[str, Any] | None:
    report.ran("python-hcl2 parse")
    try:
        tree: dict[str, Any] = hcl2.loads(text)
        return tree
    except Exception as exc:  # hcl2 raises lark errors of several classes
        report.error("python-hcl2 parse", str(exc).splitlines()[0][:300])
        return None
