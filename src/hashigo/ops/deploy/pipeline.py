"""`deploy render` from end to end: options and plan → configs → files → written → validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hashigo.ops.deploy.choose import build_config
from hashigo.ops.deploy.config import DeployConfig, Options, parse_targets
from hashigo.ops.deploy.plan_input import PlanView, load_plan
from hashigo.ops.deploy.render import render_readme, render_target
from hashigo.ops.deploy.validate import Report, validate_dir
from hashigo.ops.deploy.write import WriteResult, write_files


@dataclass
class Rendered:
    configs: list[DeployConfig]
    files: dict[str, str]
    plan: PlanView | None

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys(w for c in self.configs for w in c.warnings))


def render_all(target: str, options: Options, plan_file: Path | None) -> Rendered:
    targets = parse_targets(target)
    plan = load_plan(plan_file) if plan_file is not None else None
    configs = [build_config(t, options, plan) for t in targets]
    files: dict[str, str] = {}
    for cfg in configs:
        files |= render_target(cfg.target, cfg, plan, options)
    files["README.md"] = render_readme(configs, list(files), plan)
    return Rendered(configs, files, plan)


def render_and_write(target: str, options: Options, plan_file: Path | None, out: Path,
                     force: bool) -> tuple[Rendered, WriteResult, Report]:
    rendered = render_all(target, options, plan_file)
    written = write_files(out, rendered.files, force)
    report = validate_dir(out)
    return rendered, written, report
