"""Level changes to a webhook, as Slack-compatible JSON: `{"text": "..."}` (Slack, Mattermost, Discord's
/slack endpoint, Rocket.Chat and Teams workflows all accept it)."""

from __future__ import annotations

import httpx

from hashigo.ops.check.evaluate import RuleResult
from hashigo.ops.check.metrics import Level
from hashigo.ops.check.verdict import Verdict
from hashigo.urls import redact_url

_ICON = {"ok": ":white_check_mark:", "consider": ":warning:", "required": ":rotating_light:"}


def should_notify(previous: Level | None, level: Level) -> bool:
    """A change, or a first run that is already past ok."""
    return level != previous and not (previous is None and level == "ok")


def message(verdict: Verdict, previous: Level | None, results: list[RuleResult]) -> str:
    was = f" (was {previous})" if previous else ""
    lines = [f"{_ICON[verdict.level]} hashigo check: {verdict.level}{was} — {verdict.summary}"]
    for result in results:
        if result.level is not None and result.level != "ok":
            lines.append(f"• {result.name}: {result.measured_text()} — {result.threshold_text()} → {result.level}")
    if verdict.commands:
        lines.append("Next: " + "; ".join(f"`{c}`" for c in verdict.commands))
    return "\n".join(lines)


async def post(url: str, text: str, timeout: float = 10.0) -> str | None:
    """Send the message; None when the receiver took it, else why not (the next run retries)."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json={"text": text})
    except httpx.HTTPError as exc:
        return f"webhook {redact_url(url)}: {type(exc).__name__}: {exc}"
    if response.status_code >= 300:
        return f"webhook {redact_url(url)} answered {response.status_code}: {response.text[:200]}"
    return None
