"""Level changes reach a webhook as Slack-compatible JSON, once per change, across restarts; a failed
notification is retried by the next run; `--watch` samples on an interval into the same history."""

from __future__ import annotations

import json
from pathlib import Path

from hashigo.ops.check.history import History
from tests.ops.check.conftest import Receiver
from tests.ops.check.helpers import SKIP_AUTO, as_json, invoke, run


def _bill(tmp_path: Path, usd: float, receiver: Receiver) -> dict[str, object]:
    result = invoke(tmp_path, *SKIP_AUTO, "--bill", f"{usd:g}", "--webhook", receiver.url, "--json")
    data = as_json(result)
    assert result.returncode == data["exit_code"]
    return data


def test_notifies_each_level_change_once(tmp_path: Path, webhook: Receiver) -> None:
    levels = [_bill(tmp_path, usd, webhook)["level"] for usd in (50, 60, 150, 600, 700, 40)]
    assert levels == ["ok", "ok", "consider", "required", "required", "ok"]
    texts = [post["body"]["text"] for post in webhook.posts]
    assert [post["content_type"] for post in webhook.posts] == ["application/json"] * 3
    assert all(set(post["body"]) == {"text"} for post in webhook.posts)
    assert len(texts) == 3, texts  # ok→consider, consider→required, required→ok; nothing for the first ok
    assert texts[0].startswith(":warning: hashigo check: consider (was ok) — consider moving to the next phase: bill")
    assert "bill: 150 USD — consider ≥ 100 / required > 500 USD → consider" in texts[0]
    assert "Next: `hashigo plan`" in texts[0]
    assert texts[1].startswith(":rotating_light: hashigo check: required (was consider) — move to the next phase now")
    assert texts[2].startswith(":white_check_mark: hashigo check: ok (was required) — stay")


def test_a_failed_notification_is_retried_by_the_next_run(tmp_path: Path, webhook: Receiver) -> None:
    webhook.status = 500
    data = _bill(tmp_path, 900, webhook)
    assert data["notified"] is False and "answered 500" in str(data["notify_error"])
    assert data["exit_code"] == 2  # the verdict stands; only the message is late
    webhook.status = 200
    data = _bill(tmp_path, 900, webhook)
    assert data["notified"] is True and len(webhook.posts) == 1
    assert "required" in webhook.posts[0]["body"]["text"]


def test_watch_samples_on_an_interval_and_keeps_history(tmp_path: Path, webhook: Receiver) -> None:
    history = tmp_path / "data" / "check" / "history.sqlite3"
    result = run(tmp_path, *SKIP_AUTO, "--bill", "200", "--value", "dau=42", "--watch", "--interval", "1",
                 "--count", "3", "--webhook", webhook.url, "--json", env={"HASHIGO_DATA_DIR": "data"})
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 3, result.stderr
    times = [line["measured_at"] for line in lines]
    assert times == sorted(times) and len(set(times)) == 3
    assert [line["previous_level"] for line in lines] == [None, "consider", "consider"]
    assert len(webhook.posts) == 1  # one change (nothing → consider), then steady
    with History(history) as stored:
        assert len(stored.series("dau", 0)) == 3 and stored.get_state("level") == "consider"
    # A restart continues from the stored level: no new notification for the same level.
    again = run(tmp_path, *SKIP_AUTO, "--bill", "200", "--webhook", webhook.url, "--json",
                env={"HASHIGO_DATA_DIR": "data"})
    assert as_json(again)["previous_level"] == "consider" and len(webhook.posts) == 1


def test_human_output_is_a_table_with_a_verdict(tmp_path: Path) -> None:
    result = invoke(tmp_path, *SKIP_AUTO, "--bill", "640", "--value", "dau=300")
    assert result.returncode == 2
    text = result.stdout
    for expected in ("Rules", "measured", "threshold", "level", "Sources", "REQUIRED",
                     "move to the next phase now: bill", "hashigo migrate db run", "hashigo migrate storage",
                     "hashigo deploy render --target", "exit 2"):
        assert expected in text, expected
