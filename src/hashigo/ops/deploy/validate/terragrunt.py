"""Terragrunt units checked against the modules they call and the units they depend on (see hcl.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from hashigo.ops.deploy.validate.hcl import REF, TEMPLATE_VAR, Module, check_module, collect, label, parse, strings
from hashigo.ops.deploy.validate.report import FileReport

_FILE_CALL = re.compile(r'(templatefile|file)\("([^"]+)"(?:,\s*\{([^}]*)\})?\)')
_LOCAL_IN_PATH = re.compile(r"\$\{(get_terragrunt_dir\(\)|local\.[a-z_]+)\}")


def _first(tree: dict[str, Any], key: str) -> dict[str, Any]:
    blocks = tree.get(key) or [{}]
    first: dict[str, Any] = blocks[0]
    return first


def _unquote(value: Any) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _resolve(path_text: str, unit_dir: Path, local_values: dict[str, str]) -> Path | None:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "get_terragrunt_dir()":
            return str(unit_dir)
        return local_values.get(name.removeprefix("local."), match.group(0))
    resolved = _LOCAL_IN_PATH.sub(value, _LOCAL_IN_PATH.sub(value, path_text))
    return None if "${" in resolved else Path(os.path.normpath(unit_dir / resolved))


def _check_files(report: FileReport, text: str, unit_dir: Path, local_values: dict[str, str]) -> None:
    report.ran("files read")
    for function, path_text, variables in _FILE_CALL.findall(text):
        path = _resolve(path_text, unit_dir, local_values)
        if path is None or not path.is_file():
            report.error("files read", f"{function}(\"{path_text}\"): no such file ({path})")
            continue
        if function == "templatefile":
            given = set(re.findall(r"([a-z_]+)\s*=", variables))
            missing = sorted(set(TEMPLATE_VAR.findall(path.read_text(encoding="utf-8"))) - given)
            if missing:
                report.error("files read", f"{path.name}: template variables {missing} get no value here")


def _module_of(report: FileReport, tree: dict[str, Any], unit_dir: Path, modules: dict[Path, Module]) -> Module | None:
    source = _unquote(_first(tree, "terraform").get("source", ""))
    if not source:
        report.error("terragrunt", "terraform.source is missing")
        return None
    module_dir = Path(os.path.normpath(unit_dir / source.replace("//", "/")))
    module = modules.get(module_dir)
    if module is None:
        report.error("terragrunt", f"terraform.source {source}: no Terraform module at {module_dir}")
    return module


def check_unit(report: FileReport, tree: dict[str, Any], text: str, unit_dir: Path, modules: dict[Path, Module],
               units: dict[Path, tuple[dict[str, Any], Module | None]]) -> None:
    report.ran("terragrunt")
    module = _module_of(report, tree, unit_dir, modules)
    local_values = {k: _unquote(v) for k, v in _first(tree, "locals").items() if isinstance(v, str)}
    _check_files(report, text, unit_dir, local_values)
    if not any(_unquote(b.get("path", "")).startswith("${find_in_parent_folders(")
               for block in tree.get("include", []) for b in block.values() if isinstance(b, dict)):
        report.error("terragrunt", "no include of the root configuration (find_in_parent_folders(\"root.hcl\"))")
    if module is None:
        return
    raw_inputs = tree.get("inputs")
    inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
    for name in inputs:
        if name not in module.variables:
            report.error("terragrunt", f"inputs.{name} is not a variable of module {module.path.name}")
    for name, has_default in module.variables.items():
        if not has_default and name not in inputs:
            report.error("terragrunt", f"module {module.path.name} needs variable {name!r}; inputs do not set it")
    _check_dependencies(report, tree, unit_dir, units)


def _check_dependencies(report: FileReport, tree: dict[str, Any], unit_dir: Path,
                        units: dict[Path, tuple[dict[str, Any], Module | None]]) -> None:
    declared: dict[str, Module | None] = {}
    for block in tree.get("dependency", []):
        for name, body in block.items():
            path = Path(os.path.normpath(unit_dir / _unquote(body.get("config_path", ""))))
            if path not in units:
                report.error("terragrunt", f"dependency {label(name)}: no Terragrunt unit at {path}")
                continue
            target = units[path][1]
            declared[label(name)] = target
            for mocked in body.get("mock_outputs", {}) or {}:
                if target is not None and mocked not in target.outputs:
                    report.error("terragrunt", f"dependency {label(name)}: mock output {mocked!r} is not an output "
                                               f"of module {target.path.name}")
    for text in [s for s in strings(tree.get("inputs")) if "${" in s]:
        for kind, name, attr, output in REF.findall(text):
            if kind != "dependency":
                continue
            if name not in declared:
                report.error("terragrunt", f"dependency.{name} is used but not declared")
            elif attr == "outputs" and declared[name] is not None and output not in declared[name].outputs:  # type: ignore[union-attr]
                report.error("terragrunt", f"dependency.{name}.outputs.{output} is not an output of module "
                                           f"{declared[name].path.name}")  # type: ignore[union-attr]


def check_tree(reports: dict[Path, tuple[FileReport, str]]) -> None:
    """All .tf and terragrunt.hcl files under one root, checked together."""
    modules: dict[Path, Module] = {}
    trees: dict[Path, dict[str, Any]] = {}
    unparsed: set[Path] = set()
    for path, (report, text) in sorted(reports.items()):
        tree = parse(report, text)
        if tree is None:
            unparsed.add(path.parent)
            continue
        trees[path] = tree
        if path.suffix == ".tf":
            module = modules.setdefault(path.parent, Module(path.parent))
            collect(module, report, tree)
    for module in modules.values():
        if module.path in unparsed:  # its declarations are incomplete: every reference check would mislead
            for report, _ in module.bodies:
                report.add("note", "references", "not checked: a file of this module does not parse")
        else:
            check_module(module)
    units: dict[Path, tuple[dict[str, Any], Module | None]] = {}
    for path, tree in trees.items():
        if path.name == "terragrunt.hcl":
            source = _unquote(_first(tree, "terraform").get("source", ""))
            module_dir = Path(os.path.normpath(path.parent / source.replace("//", "/"))) if source else None
            units[path.parent] = (tree, modules.get(module_dir) if module_dir else None)
    for path, tree in trees.items():
        if path.name == "terragrunt.hcl":
            report, text = reports[path]
            check_unit(report, tree, text, path.parent, modules, units)
        elif path.name == "root.hcl":
            _check_root(reports[path][0], tree, path.parent)
        elif path.name == "env.hcl":
            report = reports[path][0]
            report.ran("terragrunt")
            missing = {"app", "env", "region"} - set(_first(tree, "locals"))
            if missing:
                report.error("terragrunt", f"locals {sorted(missing)} missing: root.hcl reads them")


def _check_root(report: FileReport, tree: dict[str, Any], root_dir: Path) -> None:
    report.ran("terragrunt")
    if "remote_state" not in tree:
        report.error("terragrunt", "root.hcl has no remote_state: every unit would keep its state locally")
    env_files = list(root_dir.glob("*/env.hcl"))
    if not env_files:
        report.error("terragrunt", "no <env>/env.hcl next to root.hcl; its locals are read by every unit")
