"""Load the price catalog and stacks shipped in the package, then apply a user's override file."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from hashigo.ops.plan.catalog_schema import COMPONENTS, Component, Entry, Source, Strict
from hashigo.ops.plan.errors import PlanInputError, field_path, load_yaml_mapping, validation_problems

STALE_AFTER_DAYS = 180
DEFAULT_OVERRIDE_FILE = "hashigo-prices.yaml"


class Stack(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str = Field(min_length=1)
    seeds: str = ""
    slots: dict[Component, tuple[str, ...]]
    api_egress_via: Component = "compute"
    files_egress_via: Component = "storage"

    @model_validator(mode="after")
    def _egress_slots_exist(self) -> Stack:
        for via in (self.api_egress_via, self.files_egress_via):
            if via not in self.slots:
                raise ValueError(f"egress is billed via {via!r}, which is not one of this stack's slots")
        if "compute" not in self.slots:
            raise ValueError("a stack needs a compute slot")
        return self


@dataclass(frozen=True)
class StaleSource:
    entry_id: str
    what: str
    source: Source
    age_days: int


@dataclass
class Catalog:
    entries: dict[str, Entry]
    stacks: dict[str, Stack]
    origin: dict[str, str] = field(default_factory=dict)
    overridden: set[str] = field(default_factory=set)

    def stale(self, today: date, days: int = STALE_AFTER_DAYS) -> list[StaleSource]:
        """Every source (of an entry, a meter or a size) read more than `days` days before `today`."""
        found = []
        for entry in self.entries.values():
            for what, source in _sources_of(entry):
                age = (today - source.read).days
                if age > days:
                    found.append(StaleSource(entry.id, what, source, age))
        return found

    def by_component(self, component: Component) -> list[Entry]:
        return [e for e in self.entries.values() if e.component == component]


def _sources_of(entry: Entry) -> list[tuple[str, Source]]:
    pairs = [("entry", entry.source)]
    pairs += [(f"meter {m.meter}", m.source) for m in entry.meters if m.source is not None]
    pairs += [(f"size {s.name}", s.source) for s in entry.sizes if s.source is not None]
    return pairs


def _without_extensions(data: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys starting with `x-` hold YAML anchors (shared sources, region lists)."""
    return {k: v for k, v in data.items() if not str(k).startswith("x-")}


def _entry_label(raw_entries: Any) -> Any:
    def label(loc: tuple[int | str, ...]) -> str:
        text = field_path(loc)
        if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int) and isinstance(raw_entries, list):
            raw = raw_entries[loc[1]] if loc[1] < len(raw_entries) else None
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                text = text.replace(f"entries[{loc[1]}]", f"entries[{loc[1]}]({raw['id']})", 1)
        return text
    return label


def parse_entries(data: dict[str, Any], file: str, allowed: tuple[str, ...] = ("entries",)) -> list[Entry]:
    data = _without_extensions(data)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise PlanInputError([f"{file}:{key}: unknown field; accepted: {', '.join(allowed)}" for key in unknown])
    raw = data.get("entries", [])
    if not isinstance(raw, list):
        raise PlanInputError([f"{file}:entries: must be a list of entries, got {type(raw).__name__}"])
    entries, problems = [], []
    label = _entry_label(raw)
    for index, item in enumerate(raw):
        try:
            entries.append(Entry.model_validate(item))
        except ValidationError as exc:
            problems += validation_problems(exc, Entry, file, lambda loc, i=index: label(("entries", i, *loc)))
    if problems:
        raise PlanInputError(problems)
    return entries


def parse_stacks(raw: Any, file: str) -> list[Stack]:
    if not isinstance(raw, list):
        raise PlanInputError([f"{file}:stacks: must be a list of stacks, got {type(raw).__name__}"])
    stacks, problems = [], []
    for index, item in enumerate(raw):
        try:
            stacks.append(Stack.model_validate(item))
        except ValidationError as exc:
            name = item.get("id") if isinstance(item, dict) else None
            prefix = f"stacks[{index}]" + (f"({name})" if isinstance(name, str) else "")
            problems += validation_problems(exc, Stack, file,
                                            lambda loc, p=prefix: p + ("." + field_path(loc) if loc else ""))
    if problems:
        raise PlanInputError(problems)
    return stacks


def _package_data() -> Any:
    return resources.files("hashigo").joinpath("data")


def load_builtin() -> Catalog:
    entries: dict[str, Entry] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    catalog_dir = _package_data().joinpath("catalog")
    for item in sorted(catalog_dir.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        name = f"hashigo/data/catalog/{item.name}"
        for entry in parse_entries(load_yaml_mapping(name, item.read_text(encoding="utf-8")), name):
            if entry.id in entries:
                problems.append(f"{name}:entries({entry.id}): id already defined in {origin[entry.id]}")
            entries[entry.id], origin[entry.id] = entry, name
    stacks_name = "hashigo/data/plan/stacks.yaml"
    stacks_data = load_yaml_mapping(stacks_name, _package_data().joinpath("plan", "stacks.yaml").read_text("utf-8"))
    stacks = {s.id: s for s in _stacks_with_common(stacks_data, stacks_name)}
    catalog = Catalog(entries, stacks, origin)
    problems += check_references(catalog, stacks_name)
    if problems:
        raise PlanInputError(problems)
    return catalog


def _stacks_with_common(data: dict[str, Any], file: str) -> list[Stack]:
    common = data.get("common_slots", {})
    if not isinstance(common, dict):
        raise PlanInputError([f"{file}:common_slots: must map a component to entry ids"])
    raw = data.get("stacks", [])
    if isinstance(raw, list):
        raw = [{**item, "slots": {**common, **item.get("slots", {})}} if isinstance(item, dict) else item
               for item in raw]
    return parse_stacks(raw, file)


def check_references(catalog: Catalog, file: str) -> list[str]:
    """Every id a stack or a `requires` names must exist, in the right component."""
    problems = []
    for stack in catalog.stacks.values():
        for component, ids in stack.slots.items():
            for entry_id in ids:
                entry = catalog.entries.get(entry_id)
                if entry is None:
                    problems.append(f"{file}:stacks({stack.id}).slots.{component}: unknown entry {entry_id!r}")
                elif entry.component != component:
                    problems.append(f"{file}:stacks({stack.id}).slots.{component}: {entry_id} is a "
                                    f"{entry.component} entry, not {component}")
    for entry in catalog.entries.values():
        for required in entry.requires:
            if required not in catalog.entries:
                problems.append(f"{catalog.origin.get(entry.id, file)}:entries({entry.id}).requires: "
                                f"unknown entry {required!r}")
    return problems


def apply_override_file(catalog: Catalog, path: Path, name: str | None = None) -> Catalog:
    """Entries in the override file win over the catalog: a known id is patched, a new id is added."""
    file = name or str(path)
    if not path.is_file():
        raise PlanInputError([f"{file}: no such file"])
    data = _without_extensions(load_yaml_mapping(file, path.read_text(encoding="utf-8")))
    unknown = sorted(set(data) - {"entries", "stacks"})
    if unknown:
        raise PlanInputError([f"{file}:{key}: unknown field; accepted: entries, stacks" for key in unknown])
    raw = data.get("entries", [])
    if not isinstance(raw, list):
        raise PlanInputError([f"{file}:entries: must be a list of entries, got {type(raw).__name__}"])
    merged_raw, problems = [], []
    for index, patch in enumerate(raw):
        if not isinstance(patch, dict) or not isinstance(patch.get("id"), str):
            problems.append(f"{file}:entries[{index}].id: required, the id of a catalog entry to patch or a new id")
            merged_raw.append(patch)
            continue
        base = catalog.entries.get(patch["id"])
        if base is not None and "source" not in patch:
            problems.append(f"{file}:entries[{index}]({patch['id']}).source: required when patching a catalog "
                            f"entry (a URL or e.g. 'contract:NAME', and the date read)")
        merged_raw.append(patch if base is None else merge_entry(base, patch))
    if problems:
        raise PlanInputError(problems)
    entries = dict(catalog.entries)
    origin = dict(catalog.origin)
    overridden = set(catalog.overridden)
    for entry in parse_entries({"entries": merged_raw}, file):
        entries[entry.id], origin[entry.id] = entry, file
        overridden.add(entry.id)
    stacks = dict(catalog.stacks)
    if "stacks" in data:
        for stack in parse_stacks(data["stacks"], file):
            stacks[stack.id] = stack
    result = Catalog(entries, stacks, origin, overridden)
    problems = check_references(result, file)
    if problems:
        raise PlanInputError(problems)
    return result


def merge_entry(base: Entry, patch: dict[str, Any]) -> dict[str, Any]:
    """Patch a catalog entry: meters merge by `meter`, sizes by `name`; a patched price cites the override."""
    out = base.model_dump(mode="python", exclude_none=True)
    # Make inherited sources explicit first, so replacing the entry's source cannot re-attribute
    # prices the override does not touch.
    for key in ("meters", "sizes"):
        for item in out.get(key, []):
            item.setdefault("source", copy.deepcopy(out["source"]))
            item.setdefault("unconfirmed", base.unconfirmed)
    source = patch.get("source")
    for key, value in patch.items():
        if key in ("meters", "sizes") and isinstance(value, list):
            out[key] = _merge_list(out.get(key, []), value, "meter" if key == "meters" else "name", source)
        elif key != "id":
            out[key] = value
    return out


def _merge_list(items: list[dict[str, Any]], patches: list[Any], key: str, source: Any) -> list[Any]:
    merged = [dict(item) for item in items]
    index = {item.get(key): i for i, item in enumerate(merged)}
    for patch in patches:
        if not isinstance(patch, dict):
            merged.append(patch)  # validation reports it with its position
            continue
        update = {"source": source, "unconfirmed": False, **patch}
        if patch.get(key) in index:
            position = index[patch[key]]
            merged[position] = {**merged[position], **update}
        else:
            merged.append(update)
    return merged


def load_catalog(override: Path | None = None, name: str | None = None) -> Catalog:
    catalog = load_builtin()
    return apply_override_file(catalog, override, name) if override is not None else catalog


__all__ = ["COMPONENTS", "STALE_AFTER_DAYS", "Catalog", "Stack", "StaleSource", "load_builtin", "load_catalog"]
