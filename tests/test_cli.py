"""The operator command line: ``coding-agent-db`` / ``python -m coding_agent_db``.

Commands run in a subprocess, as an operator runs them, against databases of
their own (the maintenance commands act across all users).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import secrets
import select
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import coding_agent_db as cadb
from coding_agent_db.cli import build_parser, describe, duration, main
from coding_agent_db.migrate import migration_state, rollback_latest
from coding_agent_db.paths import MIGRATIONS_DIR
from coding_agent_db.pool import pooler_in_front
from tests.conftest import FreshDatabase, checks

COMMANDS = [
    "migrate",
    "rollback",
    "break-lock",
    "status",
    "doctor",
    "rotate-keys",
    "purge-deleted",
    "purge-expired-tokens",
    "adopt",
    "demo",
]
ALL_MIGRATIONS = sorted(
    path.name.removesuffix(".sql")
    for path in MIGRATIONS_DIR.glob("*.sql")
    if not path.name.endswith(".rollback.sql")
)
"""The migrations the package ships, in the order yoyo applies them."""


def run_cli(
    arguments: list[str], cwd: Path, **environment: str
) -> subprocess.CompletedProcess[str]:
    """``python -m coding_agent_db ARGUMENTS`` in ``cwd``, with ``environment`` on top."""
    return subprocess.run(
        [sys.executable, "-m", "coding_agent_db", *arguments],
        cwd=cwd,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def run_json(arguments: list[str], cwd: Path, expect: int, **environment: str) -> dict[str, Any]:
    result = run_cli([*arguments, "--json"], cwd, **environment)
    assert result.returncode == expect, (result.stdout, result.stderr)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def by_check(doctor: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["check"]: finding for finding in doctor["checks"]}


# -- the command line's conventions ------------------------------------------------


def test_the_command_list_is_what_the_parser_offers() -> None:
    parser = build_parser()
    offered = next(
        action for action in parser._actions if action.dest == "command"
    ).choices  # argparse keeps subcommands here
    assert offered is not None
    assert list(offered) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    if command == "demo":  # a walk-through for people, not for scripts
        assert out.startswith("usage: coding-agent-db demo [-h]\n")
        assert "embedded" in out
        return
    if command == "adopt":  # prints its plan and report for a person reviewing them
        assert out.startswith("usage: coding-agent-db adopt [-h] [--dry-run] [--url URL]")
        assert "--remove-shims" in out
        return
    assert out.startswith(f"usage: coding-agent-db {command} [-h] [--json]")
    assert "print one JSON document on stdout, for scripts" in " ".join(out.split())


def test_the_console_script_and_python_m_show_the_commands(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "coding-agent-db"
    for command in ([str(script)], [sys.executable, "-m", "coding_agent_db"]):
        result = subprocess.run(
            [*command, "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        for name in COMMANDS:
            assert f"    {name}" in result.stdout
        assert "Exit codes: 0 ok, 1 findings or failure, 2 usage error" in " ".join(
            result.stdout.split()
        )


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["no-such-command"],
        ["purge-deleted"],
        ["purge-deleted", "--older-than", "30 days"],
        ["purge-expired-tokens", "--grace", "-1d"],
        ["rollback", "--count", "0"],
        ["rollback", "--count", "2", "--all"],
        ["rotate-keys", "--progress", "fancy"],
    ],
)
def test_usage_errors_exit_2(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    assert "usage: coding-agent-db" in capsys.readouterr().err


def test_durations_read_as_an_operator_writes_them() -> None:
    assert duration("30d") == timedelta(days=30)
    assert duration("12h") == timedelta(hours=12)
    assert duration("90m") == timedelta(minutes=90)
    assert duration("0s") == timedelta(0)
    assert duration("2w") == timedelta(weeks=2)
    assert [describe(duration(text)) for text in ("30d", "14d", "1h", "90m", "0s", "61s")] == [
        "30 days",
        "2 weeks",
        "1 hour",
        "90 minutes",
        "0 seconds",
        "61 seconds",
    ]


def test_a_missing_postgres_url_is_a_short_message_and_exit_1(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "POSTGRES_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "coding_agent_db", "status", "--json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "POSTGRES_URL is not set" in json.loads(result.stdout)["error"]
    assert "Traceback" not in result.stderr


def test_postgres_url_is_read_from_dot_env_local(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    (tmp_path / ".env").write_text("POSTGRES_URL=postgresql://nobody@127.0.0.1:1/nowhere\n")
    (tmp_path / ".env.local").write_text(f"POSTGRES_URL={url}\n")
    environment = {k: v for k, v in os.environ.items() if k != "POSTGRES_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "coding_agent_db", "migrate", "--dry-run", "--json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"dry_run": True, "pending": []}


UNREACHABLE = "postgresql://nobody:pw-s3cr3t-pw@127.0.0.1:9/nowhere"


def test_an_unreachable_server_is_a_doctor_finding(tmp_path: Path) -> None:
    doctor = run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=UNREACHABLE)
    checks_ = by_check(doctor)
    assert checks_["server"]["status"] == "fail"
    assert "cannot connect to 127.0.0.1:9/nowhere" in checks_["server"]["summary"]
    assert {f["status"] for name, f in checks_.items() if name != "server"} == {"skip"}


@pytest.mark.parametrize(
    "command", [["status"], ["migrate"], ["doctor"], ["purge-deleted", "--older-than", "1d"]]
)
def test_an_unreachable_server_is_a_short_message_without_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    result = run_cli(command, tmp_path, POSTGRES_URL=UNREACHABLE)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pw-s3cr3t-pw" not in result.stdout + result.stderr


# -- migrate and rollback ------------------------------------------------------------


def test_migrate_dry_run_lists_and_changes_nothing_then_migrate_applies(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database(migrated=False)
    dry = run_json(["migrate", "--dry-run"], tmp_path, expect=0, POSTGRES_URL=url)
    assert dry == {"dry_run": True, "pending": ALL_MIGRATIONS}
    assert migration_state(url).applied == []

    applied = run_json(["migrate"], tmp_path, expect=0, POSTGRES_URL=url)
    assert applied == {"dry_run": False, "applied": ALL_MIGRATIONS}
    again = run_cli(["migrate"], tmp_path, POSTGRES_URL=url)
    assert again.returncode == 0
    assert "0 migrations applied; the schema is current." in again.stdout


def test_rollback_undoes_the_latest_migrations(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    dry = run_json(["rollback", "--count", "2", "--dry-run"], tmp_path, expect=0, POSTGRES_URL=url)
    assert dry == {"dry_run": True, "rolled_back": ALL_MIGRATIONS[:-3:-1]}
    assert migration_state(url).pending == []

    one = run_json(["rollback"], tmp_path, expect=0, POSTGRES_URL=url)
    assert one == {"dry_run": False, "rolled_back": [ALL_MIGRATIONS[-1]]}
    assert migration_state(url).pending == [ALL_MIGRATIONS[-1]]
    everything = run_json(["rollback", "--all"], tmp_path, expect=0, POSTGRES_URL=url)
    assert everything["rolled_back"] == ALL_MIGRATIONS[-2::-1]
    assert migration_state(url).applied == []


# -- status and doctor on a fresh, a stale-locked and a behind-by-one database ---------


def test_status_and_doctor_on_a_fresh_database(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database(migrated=False)
    status = run_json(["status"], tmp_path, expect=0, POSTGRES_URL=url)
    assert status["migrations"] == {"applied": [], "pending": ALL_MIGRATIONS, "unknown": 0}
    assert status["migration_lock"] is None
    assert status["rows"] is None
    assert status["secrets"] is None
    assert status["server_version"].split(".")[0].isdigit()

    doctor = run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=url)
    assert doctor["ok"] is False
    found = by_check(doctor)
    assert list(found) == [
        "server",
        "schema",
        "migration lock",
        "pooler",
        "notify queue",
        "encryption key",
        "legacy values",
        "legacy reads",
        "key ids",
    ]
    assert found["server"]["status"] == "ok"
    assert found["schema"]["status"] == "fail"
    assert found["schema"]["details"] == ALL_MIGRATIONS
    assert "coding-agent-db migrate" in found["schema"]["advice"]
    assert found["migration lock"]["status"] == "ok"
    # Doctor reports what detection finds (tests/test_faults.py tests detection itself):
    # directly on PostgreSQL the fast path, behind CI's PgBouncer no statement cache.
    assert found["pooler"]["status"] == "ok"
    assert found["pooler"]["summary"] == (
        "transaction-mode pooler detected: unnamed statements, no statement cache"
        if asyncio.run(pooler_in_front(url))
        else "direct connection; statement cache on"
    )
    assert found["notify queue"]["status"] == "ok"
    assert found["notify queue"]["summary"].endswith("of the server's notification queue in use")
    assert {
        found[name]["status"]
        for name in ("encryption key", "legacy values", "legacy reads", "key ids")
    } == {"skip"}


async def test_status_and_doctor_on_a_stale_locked_database(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        await checks.insert_migration_lock(pool, age=timedelta(hours=2), pid=4242)
    finally:
        await pool.close()

    status = run_json(["status"], tmp_path, expect=0, POSTGRES_URL=url)
    lock = status["migration_lock"]
    assert lock["pid"] == 4242
    held_for = datetime.now(UTC) - datetime.fromisoformat(lock["locked_at"])
    assert timedelta(hours=1, minutes=59) < held_for < timedelta(hours=2, minutes=5)
    assert status["migrations"]["pending"] == []

    doctor = run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=url)
    found = by_check(doctor)
    assert found["migration lock"]["status"] == "fail"
    assert "stale: held by process 4242 since" in found["migration lock"]["summary"]
    assert "coding-agent-db break-lock" in found["migration lock"]["advice"]
    assert [name for name, f in found.items() if f["status"] != "ok"] == ["migration lock"]

    # A migration meanwhile gives up with a short message, not a traceback.
    blocked = run_cli(["migrate", "--lock-timeout", "0.5"], tmp_path, POSTGRES_URL=url)
    assert blocked.returncode == 1
    assert "coding-agent-db break-lock" in blocked.stderr
    assert "Traceback" not in blocked.stderr

    assert run_json(["break-lock"], tmp_path, expect=0, POSTGRES_URL=url) == {"lock": "removed"}
    healthy = run_json(["doctor"], tmp_path, expect=0, POSTGRES_URL=url)
    assert healthy["ok"] is True
    assert {f["status"] for f in healthy["checks"]} == {"ok"}


async def test_a_fresh_lock_is_a_running_migration_not_a_stale_one(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        await checks.insert_migration_lock(pool, age=timedelta(seconds=30), pid=77)
    finally:
        await pool.close()
    found = by_check(run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=url))
    assert found["migration lock"]["status"] == "warn"
    assert "a migration is probably running" in found["migration lock"]["summary"]


def test_status_and_doctor_on_a_database_behind_by_one(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    assert rollback_latest(url, 1) == [ALL_MIGRATIONS[-1]]

    status = run_json(["status"], tmp_path, expect=0, POSTGRES_URL=url)
    assert status["migrations"] == {
        "applied": ALL_MIGRATIONS[:-1],
        "pending": [ALL_MIGRATIONS[-1]],
        "unknown": 0,
    }
    assert status["rows"]["users"] == 0
    assert status["secrets"] == []

    doctor = run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=url)
    found = by_check(doctor)
    assert found["schema"]["status"] == "fail"
    assert found["schema"]["summary"] == f"1 of {len(ALL_MIGRATIONS)} migrations pending"
    assert found["schema"]["details"] == [ALL_MIGRATIONS[-1]]
    assert [name for name, f in found.items() if f["status"] != "ok"] == ["schema"]


# -- secrets: status by key id and format, doctor's key checks -------------------------


async def _store_secrets_under(url: str, key: str, fmt: str, count: int) -> list[cadb.User]:
    """``count`` users, each with a sign-in token and an API key, written under ``key``."""
    users = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ENCRYPTION_KEY", key)
        env.setenv("ENCRYPTION_FORMAT", fmt)
        pool = await cadb.create_pool(url)
        try:
            for _ in range(count):
                user = await cadb.upsert_user(
                    cadb.NewUser(
                        provider="github",
                        external_id=secrets.token_hex(6),
                        access_token="gho_" + secrets.token_hex(16),
                        username="someone",
                    ),
                    conn=pool,
                )
                await cadb.set_key(
                    user_id=user.id,
                    provider="openai",
                    value="sk-proj-" + secrets.token_hex(20),
                    conn=pool,
                )
                users.append(user)
        finally:
            await pool.close()
    return users


def _key_id(key: str) -> str:
    return cadb.crypto.Keyring.from_config(key, None, None).current.id


async def test_status_counts_secrets_by_format_and_key_and_doctor_says_what_to_do(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    await _store_secrets_under(url, old, "authenticated", 2)
    await _store_secrets_under(url, old, "legacy", 1)
    await _store_secrets_under(url, new, "authenticated", 3)
    environment = {"POSTGRES_URL": url, "ENCRYPTION_KEY": new, "ENCRYPTION_KEYS_PREVIOUS": old}

    status = run_json(["status"], tmp_path, expect=0, **environment)
    counted = {
        (s["table_name"], s["column_name"], s["format"], s["key_id"], s["key"]): s["count"]
        for s in status["secrets"]
    }
    assert counted == {
        ("keys", "value", "authenticated", _key_id(old), "previous"): 2,
        ("keys", "value", "authenticated", _key_id(new), "current"): 3,
        ("keys", "value", "legacy", None, None): 1,
        ("users", "access_token", "authenticated", _key_id(old), "previous"): 2,
        ("users", "access_token", "authenticated", _key_id(new), "current"): 3,
        ("users", "access_token", "legacy", None, None): 1,
    }
    assert status["rows"]["users"] == 6
    assert status["rows"]["keys"] == 6

    found = by_check(run_json(["doctor"], tmp_path, expect=1, **environment))
    assert found["encryption key"]["status"] == "ok"
    assert found["encryption key"]["summary"] == f"key {_key_id(new)} opens all 12 sampled values"
    assert found["legacy values"]["status"] == "warn"
    assert found["legacy values"]["summary"].startswith("2 values still in the legacy format")
    assert "rotate-keys" in found["legacy values"]["advice"]
    assert found["key ids"]["status"] == "warn"
    assert found["key ids"]["summary"] == "4 values still under a previous key"
    assert "rotate-keys" in found["key ids"]["advice"]

    # Without the old key, its values no longer open: doctor names them.
    without_old = {**environment, "ENCRYPTION_KEYS_PREVIOUS": ""}
    found = by_check(run_json(["doctor"], tmp_path, expect=1, **without_old))
    assert found["encryption key"]["status"] == "fail"
    assert found["encryption key"]["summary"] == "6 of 12 sampled values do not decrypt"
    assert any("keys.value:" in detail for detail in found["encryption key"]["details"])
    assert found["key ids"]["status"] == "fail"
    assert _key_id(old) in " ".join(found["key ids"]["details"])
    text = run_cli(["doctor"], tmp_path, **without_old)
    assert old not in text.stdout + text.stderr
    assert new not in text.stdout + text.stderr

    # rotate-keys moves everything under the current key; doctor is then content.
    rotated = run_json(["rotate-keys"], tmp_path, expect=0, **environment)
    assert rotated == {"rows": 12, "rewritten": 6, "unreadable": [], "legacy_remaining": 0}
    healthy = run_json(["doctor"], tmp_path, expect=0, **without_old)
    assert {f["status"] for f in healthy["checks"]} == {"ok"}


def test_doctor_without_an_encryption_key_says_so(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    found = by_check(run_json(["doctor"], tmp_path, expect=1, POSTGRES_URL=url, ENCRYPTION_KEY=""))
    assert found["encryption key"]["status"] == "fail"
    assert "ENCRYPTION_KEY is not set" in found["encryption key"]["summary"]
    assert found["key ids"]["status"] == "skip"


# -- rotate-keys progress ----------------------------------------------------------------


async def _database_with_old_secrets(fresh_database: FreshDatabase, old: str) -> str:
    url = fresh_database()
    await _store_secrets_under(url, old, "authenticated", 3)
    return url


async def test_rotate_keys_prints_plain_progress_lines_when_not_on_a_terminal(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    url = await _database_with_old_secrets(fresh_database, old)
    result = run_cli(
        ["rotate-keys", "--batch-size", "1"],
        tmp_path,
        POSTGRES_URL=url,
        ENCRYPTION_KEY=new,
        ENCRYPTION_KEYS_PREVIOUS=old,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("rotate-keys: 1/6 rows (17%), ")
    assert lines[-1].startswith("rotate-keys: 6/6 rows (100%), ")
    assert all("rows/s" in line and "ETA" in line for line in lines)
    assert "\r" not in result.stderr
    assert "\x1b" not in result.stderr
    assert result.stdout == (
        "rewrote 6 of 6 rows under the current key\n"
        "no value is in the legacy format: ENCRYPTION_LEGACY_READS=off is safe\n"
    )


def _run_under_a_terminal(
    argv: list[str], cwd: Path, environment: dict[str, str], *, columns: int
) -> str:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr; returns what it wrote.

    ``columns=0`` leaves the terminal without a size, as `script` and some CI runners do.
    """
    controller, terminal = pty.openpty()
    if columns:  # as a terminal emulator sets it
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        argv, cwd=cwd, env=environment, stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal (EIO on Linux)
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
        assert process.wait(timeout=60) == 0, output
    return output.decode()


@pytest.mark.parametrize("columns", [100, 0])
async def test_rotate_keys_draws_a_progress_bar_on_a_terminal(
    fresh_database: FreshDatabase, tmp_path: Path, columns: int
) -> None:
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    url = await _database_with_old_secrets(fresh_database, old)
    environment = {
        **os.environ,
        "POSTGRES_URL": url,
        "ENCRYPTION_KEY": new,
        "ENCRYPTION_KEYS_PREVIOUS": old,
    }
    output = _run_under_a_terminal(
        [sys.executable, "-m", "coding_agent_db", "rotate-keys", "--batch-size", "2"],
        tmp_path,
        environment,
        columns=columns,
    )
    frames = output.split("\r")
    final = [frame for frame in frames if "6/6" in frame]
    assert final, output
    # tqdm's bar: label, percentage, bar, count, elapsed<ETA, rate.
    assert final[-1].startswith("rotate-keys: 100%|")
    assert "██████████" in final[-1]
    width = columns or 80  # the bar fills the terminal's width (tqdm leaves one column)
    assert width - 1 <= len(final[-1].rstrip()) <= width
    assert "| 6/6 [" in final[-1]
    assert "rows/s]" in final[-1]
    # Drawn as soon as the first batch is done (and the total known).
    assert frames[1].startswith("rotate-keys:  33%|"), output
    assert "| 2/6 [" in frames[1]
    assert "rewrote 6 of 6 rows under the current key" in output
    assert "rotate-keys: 1/6 rows" not in output  # no plain lines on a terminal


# -- purges ----------------------------------------------------------------------------------


async def test_purge_deleted_removes_only_tasks_deleted_longer_ago(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        user = await cadb.upsert_user(
            cadb.NewUser(provider="github", external_id="1", access_token="t", username="u"),
            conn=pool,
        )
        tasks = [
            await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt=f"{n}"), conn=pool)
            for n in range(3)
        ]
        now = datetime.now(UTC)
        for task, deleted in zip(
            tasks, [now - timedelta(days=31), now - timedelta(days=29), None], strict=True
        ):
            await checks.set_raw_task_dates(
                pool, task_id=task.id, created_at=now - timedelta(days=40), deleted_at=deleted
            )
        purged = run_json(
            ["purge-deleted", "--older-than", "30d"], tmp_path, expect=0, POSTGRES_URL=url
        )
        assert purged == {"purged_tasks": 1, "older_than_seconds": 30 * 86400}
        assert await checks.get_raw_task(pool, task_id=tasks[0].id) is None
        assert await checks.get_raw_task(pool, task_id=tasks[1].id) is not None
        text = run_cli(["purge-deleted", "--older-than", "28d"], tmp_path, POSTGRES_URL=url)
        assert text.stdout == "purged 1 task soft-deleted more than 4 weeks ago\n"
    finally:
        await pool.close()


async def test_purge_expired_tokens_removes_tokens_expired_longer_than_the_grace(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        user = await cadb.upsert_user(
            cadb.NewUser(provider="github", external_id="1", access_token="t", username="u"),
            conn=pool,
        )
        later = datetime.now(UTC) + timedelta(days=1)
        tokens = [
            await cadb.create_api_token(user_id=user.id, name=f"t{n}", expires_at=later, conn=pool)
            for n in range(3)
        ]
        forever = await cadb.create_api_token(user_id=user.id, name="forever", conn=pool)
        now = datetime.now(UTC)
        await checks.set_raw_token_expiry(
            pool, token_id=tokens[0].token.id, expires_at=now - timedelta(days=10)
        )
        await checks.set_raw_token_expiry(
            pool, token_id=tokens[1].token.id, expires_at=now - timedelta(days=1)
        )
        status = run_json(["status"], tmp_path, expect=0, POSTGRES_URL=url)
        assert status["rows"]["api_tokens"] == 4
        assert status["rows"]["expired_api_tokens"] == 2

        purged = run_json(["purge-expired-tokens"], tmp_path, expect=0, POSTGRES_URL=url)
        assert purged == {"purged_tokens": 1, "grace_seconds": 7 * 86400}
        purged = run_json(
            ["purge-expired-tokens", "--grace", "0s"], tmp_path, expect=0, POSTGRES_URL=url
        )
        assert purged["purged_tokens"] == 1
        left = {t.name for t in await cadb.list_api_tokens(user_id=user.id, conn=pool)}
        assert left == {"t2", forever.token.name}
    finally:
        await pool.close()


async def test_purge_expired_api_tokens_refuses_a_negative_or_non_duration_grace() -> None:
    with pytest.raises(cadb.ValidationError) as negative:
        await cadb.purge_expired_api_tokens(grace=timedelta(days=-1))
    assert negative.value.field == "grace"
    with pytest.raises(cadb.ValidationError) as wrong_type:
        await cadb.purge_expired_api_tokens(grace=7)  # type: ignore[arg-type]
    assert wrong_type.value.field == "grace"
