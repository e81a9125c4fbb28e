"""`hashigo migrate storage` as a user runs it: bad input, JSON, plan, verify, deletes, the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.objectstores import S3Server
from tests.ops.migrate.storage.helpers import Side, cli_env, hashigo, local_side, s3_side


def make_folder(folder: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)


def read_folder(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".hashigo") for part in p.relative_to(folder).parts)}


FILES = {"index.html": b"<h1>hi</h1>", "img/猫.jpg": b"\xff\xd8" + bytes(5000), "empty": b""}


@pytest.mark.parametrize(("args", "message"), [
    (["ftp://host/x", "file://{y}"], "unknown scheme 'ftp'"),
    (["file://{x}", "s3://b?color=red"], "unknown URL option 'color'"),
    (["file://{x}", "s3://"], "names no bucket"),
    (["file://{x}", "file://{x}/backup"], "overlap"),
    (["file://{x}", "file://{y}", "--part-size", "big"], "--part-size 'big' is not a size"),
    (["file://{x}", "file://{y}", "--concurrency", "0"], "--concurrency must be between 1 and 256"),
    (["file://{x}", "file://{y}", "--delete-extraneous"], "needs --yes-delete-extraneous"),
    (["file://{x}", "file://{y}", "--prefix", "../up"], "--prefix: invalid object key"),
    (["file://{x}", "file://{y}", "--include", ""], "--include '' is empty"),
    (["file:///nonexistent/hashigo-src", "file://{y}"], "folder /nonexistent/hashigo-src does not exist"),
])
def test_bad_input_is_refused_with_a_reason(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    args = [arg.format(x=tmp_path / "x", y=tmp_path / "y") for arg in args]
    result = hashigo("migrate", "storage", *args, env=cli_env(local_side(tmp_path), local_side(tmp_path)),
                     cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


def test_journal_of_another_migration_is_refused(tmp_path: Path) -> None:
    make_folder(tmp_path / "a", FILES)
    env = cli_env(local_side(tmp_path), local_side(tmp_path))
    journal = str(tmp_path / "j.sqlite")
    assert hashigo("migrate", "storage", f"file://{tmp_path}/a", f"file://{tmp_path}/b", "--journal", journal,
                   env=env, cwd=tmp_path).returncode == 0
    other = hashigo("migrate", "storage", f"file://{tmp_path}/a", f"file://{tmp_path}/c", "--journal", journal,
                    env=env, cwd=tmp_path)
    assert other.returncode == 2 and "belongs to" in other.stderr


def test_plan_and_dry_run_write_nothing(tmp_path: Path) -> None:
    make_folder(tmp_path / "src", FILES)
    make_folder(tmp_path / "dst", {"stale.txt": b"old", "index.html": b"older"})
    env = cli_env(local_side(tmp_path), local_side(tmp_path))
    for command in (["plan"], ["copy", "--dry-run"]):
        result = hashigo("migrate", "storage", *command, f"file://{tmp_path}/src", f"file://{tmp_path}/dst",
                         "--json", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        plan = json.loads(result.stdout)
        assert (plan["new"]["objects"], plan["overwrite"]["objects"], plan["extraneous"]["keys"]) == (
            2, 1, ["stale.txt"])
        assert plan["to_copy_bytes"] == sum(map(len, FILES.values()))
        assert "assumed" in plan["estimate_basis"]
    assert read_folder(tmp_path / "dst") == {"stale.txt": b"old", "index.html": b"older"}
    assert not (tmp_path / ".hashigo").exists()


def test_delete_extraneous_with_confirmation(tmp_path: Path) -> None:
    make_folder(tmp_path / "src", FILES)
    make_folder(tmp_path / "dst", {"stale.txt": b"old"})
    env = cli_env(local_side(tmp_path), local_side(tmp_path))
    result = hashigo("migrate", "storage", f"file://{tmp_path}/src", f"file://{tmp_path}/dst", "--json",
                     "--delete-extraneous", "--yes-delete-extraneous", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["deleted"] == ["stale.txt"]
    assert read_folder(tmp_path / "dst") == FILES
    assert read_folder(tmp_path / "src") == FILES


def test_failures_exit_one_and_are_listed(tmp_path: Path) -> None:
    make_folder(tmp_path / "src", {"fine.txt": b"ok"})
    # A file name the port refuses as a key everywhere (Windows and some tools split on backslashes).
    make_folder(tmp_path / "src", {"odd/back\\slash.txt": b"x"})
    env = cli_env(local_side(tmp_path), local_side(tmp_path))
    result = hashigo("migrate", "storage", f"file://{tmp_path}/src", f"file://{tmp_path}/dst", "--json",
                     env=env, cwd=tmp_path)
    report = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr
    assert report["copied"] == 1 and report["failed"] == 1
    assert report["failures"][0]["key"] == "odd/back\\slash.txt"
    assert "backslash" in report["failures"][0]["reason"]


def test_new_user_round_trip_through_s3(rclone_server: S3Server, tmp_path: Path) -> None:
    """Copy a folder into the S3 server, verify it, copy it back to another folder: identical."""
    make_folder(tmp_path / "site", FILES)
    folder, bucket = local_side(tmp_path / "site"), s3_side(rclone_server, "s3")
    env = cli_env(folder, bucket)
    up = hashigo("migrate", "storage", folder.url, bucket.url, env=env, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "copied and verified" in up.stdout
    checked = hashigo("migrate", "storage", "verify", folder.url, bucket.url, "--json", env=env, cwd=tmp_path)
    assert checked.returncode == 0 and json.loads(checked.stdout)["compared"] == len(FILES)
    back = Side("local", f"file://{tmp_path}/back", folder.settings)
    down = hashigo("migrate", "storage", bucket.url, back.url, env=cli_env(bucket, back), cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert read_folder(tmp_path / "back") == FILES
    (tmp_path / "back" / "index.html").write_bytes(b"<h1>HI</h1>")  # same size, other bytes
    (tmp_path / "back" / "extra.txt").write_bytes(b"extra")
    diff = hashigo("migrate", "storage", "verify", bucket.url, back.url, "--json", env=cli_env(bucket, back),
                   cwd=tmp_path)
    assert diff.returncode == 1
    kinds = {d["key"]: d["kind"] for d in json.loads(diff.stdout)["differences"]}
    assert kinds == {"index.html": "content", "extra.txt": "extra"}
