"""`hashigo deploy`: the typer sub-app. Wiring only; the work is in the modules next to it."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from hashigo.ops.deploy.config import ENVS, TARGETS, Options
from hashigo.ops.deploy.errors import DeployInputError
from hashigo.ops.deploy.output import print_diff, print_render, print_validation, render_json

deploy_app = typer.Typer(help="Deployment files for every platform and phase, generated and validated.",
                         no_args_is_help=True)
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PlanOption = Annotated[Path | None, typer.Option(
    "--from-plan", help="Output of `hashigo plan --json`: sizes, regions and phase choices come from it.")]
TargetOpt = Annotated[str, typer.Option("--target", "-t", help=f"{', '.join(TARGETS)}, all, or a list: a,b.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder to write (inside the repository).")]
PhaseOpt = Annotated[str | None, typer.Option("--phase", help="Plan phase to size from (default: the one using it).")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="tokyo, singapore, … or the platform's code (nrt).")]
WebSocketOpt = Annotated[bool | None, typer.Option(
    "--websocket/--no-websocket", help="The app holds WebSockets (default: from the plan; yes without one).")]
DaysOpt = Annotated[int, typer.Option("--session-files-days", help="Days before sessions/ files expire.")]
OriginOpt = Annotated[list[str] | None, typer.Option("--allowed-origin", help="Origin allowed by CORS (repeat).")]
DeployToOpt = Annotated[str | None, typer.Option(
    "--deploy-to", help="Where the GitHub workflow deploys (default: the plan's first platform).")]


def _fail(problems: list[str], code: int = 2) -> NoReturn:
    for problem in problems:
        err.print(f"[red]hashigo deploy:[/red] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _options(env: str, **values: Any) -> Options:
    if env not in ENVS:
        _fail([f"--env {env!r}: accepted: {', '.join(ENVS)}"])
    billing = values.pop("billing")
    if billing not in (None, "instance", "request"):
        _fail([f"--billing {billing!r}: accepted: instance, request (Cloud Run)"])
    if values["session_files_days"] < 1:
        _fail([f"--session-files-days {values['session_files_days']}: must be 1 or more"])
    for name in ("vcpu", "memory_gb"):
        if values[name] is not None and values[name] <= 0:
            _fail([f"--{name.replace('_gb', '').replace('vcpu', 'cpu')} {values[name]}: must be more than 0"])
    return Options(env=env, billing=billing, **values)


@deploy_app.command("render")
def render(
    target: TargetOpt,
    env: Annotated[str, typer.Option("--env", help="staging or production.")] = "production",
    output: OutOpt = Path("deploy"),
    from_plan: PlanOption = None,
    phase: PhaseOpt = None,
    region: RegionOpt = None,
    app: Annotated[str | None, typer.Option("--app", help="App name (default: the plan's, else hashigo).")] = None,
    cpu: Annotated[float | None, typer.Option("--cpu", help="vCPUs of one instance.")] = None,
    memory: Annotated[float | None, typer.Option("--memory", help="GB of memory of one instance.")] = None,
    min_instances: Annotated[int | None, typer.Option("--min-instances")] = None,
    max_instances: Annotated[int | None, typer.Option("--max-instances")] = None,
    websocket: WebSocketOpt = None,
    billing: Annotated[str | None, typer.Option("--billing", help="Cloud Run: instance or request.")] = None,
    session_files_days: DaysOpt = 7,
    allowed_origin: OriginOpt = None,
    github_repo: Annotated[str, typer.Option("--github-repo", help="owner/name that may deploy.")] = "OWNER/REPO",
    deploy_to: DeployToOpt = None,
    repo_root: Annotated[Path, typer.Option("--repo-root", help="The repository root: the build context.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace existing files that differ.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Write the deployment files for TARGET into --out, then validate every file there (exit 1 if any fails)."""
    from hashigo.ops.deploy.pipeline import render_and_write
    from hashigo.ops.deploy.write import out_dir_in_repo

    try:
        options = _options(env, app=app, region=region, phase=phase, vcpu=cpu, memory_gb=memory,
                           min_instances=min_instances, max_instances=max_instances, websocket=websocket,
                           billing=billing, session_files_days=session_files_days,
                           allowed_origins=tuple(allowed_origin or ()), github_repo=github_repo, deploy_to=deploy_to,
                           out_dir=out_dir_in_repo(output, repo_root))
        with err.status("rendering and validating …") if not json_output else nullcontext():
            rendered, written, report = render_and_write(target, options, from_plan, output, force)
    except DeployInputError as exc:
        _fail(exc.problems)
    if json_output:
        print(json.dumps(render_json(rendered, written, report, output), ensure_ascii=False, indent=2))
    else:
        print_render(out, err, rendered, written, report, output)
    if not report.ok:
        raise typer.Exit(1)


@deploy_app.command("validate")
def validate(
    folder: Annotated[Path, typer.Argument(help="A folder written by `hashigo deploy render`.")],
    json_output: JsonFlag = False,
) -> None:
    """Check every file in FOLDER with the best validator available offline (exit 1 if any fails)."""
    from hashigo.ops.deploy.validate import validate_dir

    try:
        with err.status("validating …") if not json_output else nullcontext():
            report = validate_dir(folder)
    except DeployInputError as exc:
        _fail(exc.problems)
    if json_output:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_validation(out, report)
    if not report.ok:
        raise typer.Exit(1)


@deploy_app.command("diff")
def diff(
    from_phase: Annotated[str, typer.Option("--from", help="Plan phase (e.g. launch).")],
    to_phase: Annotated[str, typer.Option("--to", help="A later plan phase (e.g. scale).")],
    from_plan: PlanOption = None,
    json_output: JsonFlag = False,
) -> None:
    """What changes in the deployment between two phases: platform, sizes, files, migration steps."""
    from hashigo.ops.deploy.diff import phase_diff
    from hashigo.ops.deploy.plan_input import computed_plan, load_plan

    try:
        with err.status("planning and rendering both phases …") if not json_output else nullcontext():
            plan = load_plan(from_plan) if from_plan is not None else computed_plan(Path.cwd())
            result = phase_diff(plan, from_phase, to_phase)
    except DeployInputError as exc:
        _fail(exc.problems)
    if json_output:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_diff(out, result)
