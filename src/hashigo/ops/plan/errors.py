"""Input errors of `hashigo plan`: one line per problem, `file:field: what was wrong, what is accepted`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hashigo.errors import HashigoError


class PlanInputError(HashigoError):
    """A requirements, catalog, stacks or override file (or a flag) is invalid."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def load_yaml_mapping(path: Path | str, text: str | None = None) -> dict[str, Any]:
    """Parse a YAML file whose top level must be a mapping; syntax errors name the line."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PlanInputError([f"{name}: no such file"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PlanInputError([f"{name}: cannot be read ({exc})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        raise PlanInputError([f"{where}: not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise PlanInputError([f"{name}: not valid YAML: {exc}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PlanInputError([f"{name}: the top level must be a mapping of fields, got {type(data).__name__}"])
    return data


def field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _accepted_fields(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The field names accepted where an unknown field was found, by walking the model along `loc`."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return None
        current = _model_in(fields[part].annotation)
        if current is None:
            return None
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validation_problems(exc: ValidationError, model: type[BaseModel], file: str,
                        label: Any = None) -> list[str]:
    """Turn pydantic's errors into `file:field: message` lines; `label(loc)` may name the record."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = label(loc) if label else field_path(loc)
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            accepted = _accepted_fields(model, loc)
            message = "unknown field" + (f"; accepted: {', '.join(accepted)}" if accepted else "")
        elif error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
            named = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", message, re.S)
            if named and not loc:
                where, message = named.group(1), named.group(2)
        else:
            message = f"{message} (got {_short(error.get('input'))})"
        problems.append(f"{file}:{where}: {message}")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
