"""Read the rules file: the built-in (seed) rules, patched by the user's file; errors name the rule and field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hashigo.errors import HashigoError
from hashigo.ops.check.rulefile import RulesFile
from hashigo.ops.plan.errors import PlanInputError, field_path, load_yaml_mapping

DEFAULT_RULES_FILE = "hashigo-check.yaml"
BUILTIN_NAME = "hashigo/data/check/rules.yaml"


class CheckInputError(HashigoError):
    """The rules file, a flag or a billing file is invalid: one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def builtin_text() -> str:
    return resources.files("hashigo").joinpath("data", "check", "rules.yaml").read_text(encoding="utf-8")


def _mapping(name: str, text: str | None = None) -> dict[str, Any]:
    try:
        return load_yaml_mapping(name, text)
    except PlanInputError as exc:  # the plan's YAML reader already names the line; keep its words
        raise CheckInputError(exc.problems) from None


def merge_rules(base: dict[str, Any], patch: dict[str, Any], file: str) -> dict[str, Any]:
    """Rules patch the defaults by name: a mapping updates the fields it names, `false` removes the rule."""
    merged = {name: dict(rule) if isinstance(rule, dict) else rule for name, rule in base.items()}
    for name, rule in patch.items():
        if rule is False:
            merged.pop(str(name), None)
        elif isinstance(rule, dict) and isinstance(merged.get(str(name)), dict):
            merged[str(name)] = {**merged[str(name)], **rule}
        elif isinstance(rule, dict):
            merged[str(name)] = rule
        else:
            raise CheckInputError([f"{file}:rules.{name}: must be a mapping of fields, or false to turn it off; "
                                   f"got {rule!r}"])
    return merged


def combine(builtin: dict[str, Any], user: dict[str, Any], file: str) -> dict[str, Any]:
    data = {**builtin, **{k: v for k, v in user.items() if k != "rules"}}
    user_rules = user.get("rules") or {}
    if not isinstance(user_rules, dict):
        raise CheckInputError([f"{file}:rules: must map rule names to rules, got {type(user_rules).__name__}"])
    start = builtin.get("rules", {}) if user.get("default_rules", True) is not False else {}
    data["rules"] = merge_rules(start, user_rules, file)
    return data


def load_rules(path: Path | None = None, cwd: Path | None = None) -> tuple[RulesFile, str]:
    """The rules in force and the name of the file they came from ("built-in rules" without one)."""
    builtin = _mapping(BUILTIN_NAME, builtin_text())
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_RULES_FILE
        path = candidate if candidate.is_file() else None
    if path is None:
        return validate(builtin, BUILTIN_NAME), "built-in rules"
    if not path.is_file():
        raise CheckInputError([f"{path}: no such rules file (write one with `hashigo check init`)"])
    name = str(path)
    user = _mapping(name)
    rules = validate(combine(builtin, user, name), name)
    return _relative_paths(rules, path.parent), name


def _relative_paths(rules: RulesFile, folder: Path) -> RulesFile:
    """Paths in a rules file are relative to the file, not to wherever the command runs."""
    def absolute(path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else folder / path

    plan = rules.plan.model_copy(update={"file": absolute(rules.plan.file), "prices": absolute(rules.plan.prices)})
    history = rules.history.model_copy(update={"path": absolute(rules.history.path)})
    sources = rules.sources
    if sources.billing is not None and sources.billing.csv is not None:
        sources = sources.model_copy(update={"billing": sources.billing.model_copy(
            update={"csv": absolute(sources.billing.csv)})})
    return rules.model_copy(update={"plan": plan, "history": history, "sources": sources})


def validate(data: dict[str, Any], file: str) -> RulesFile:
    try:
        return RulesFile.model_validate(data)
    except ValidationError as exc:
        raise CheckInputError(problems(exc, file)) from None


def problems(exc: ValidationError, file: str) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if part != "[key]")
        message = str(error["msg"]).removeprefix("Value error, ")
        where = field_path(loc)
        if error["type"] == "extra_forbidden":
            accepted = accepted_fields(loc)
            message = "unknown field" + (f"; accepted: {', '.join(accepted)}" if accepted else "")
        elif error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "literal_error":
            expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
            message = f"{error.get('input')!r} is not accepted; accepted: {expected}"
        elif error["type"] == "value_error" and message.split(": ", 1)[0] in accepted_fields((*loc, "?")):
            # A check across fields names the field it is about: "consider: must be at most required".
            field, message = message.split(": ", 1)
            where = f"{where}.{field}"
        elif error["type"] not in {"value_error", "assertion_error"}:
            message = f"{message} (got {_short(error.get('input'))})"
        lines.append(f"{file}:{where}: {message}")
    return lines


def accepted_fields(loc: tuple[int | str, ...]) -> list[str]:
    """The field names accepted where an unknown one was found, walking the schema along `loc`."""
    from hashigo.ops.check.rulefile import Rule

    model: type[BaseModel] | None = RulesFile
    parts = list(loc[:-1])
    while parts and model is not None:
        part = parts.pop(0)
        if model is RulesFile and part == "rules":
            model = Rule
            if parts:
                parts.pop(0)  # the rule's name
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field is not None else None
    return sorted(model.model_fields) if model is not None else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
