"""The command lines the README shows: its quick start, and key rotation."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import coding_agent_db as cadb
from tests.conftest import FreshDatabase, checks

REPO = Path(__file__).resolve().parents[1]


def run_python(arguments: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def quick_start() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_quick_start_runs(fresh_database: FreshDatabase, encryption_key: str) -> None:
    result = run_python(
        ["-c", quick_start()], POSTGRES_URL=fresh_database(), ENCRYPTION_KEY=encryption_key
    )
    assert result.returncode == 0, result.stderr
    assert "completed ['npm test'] ['anthropic']" in result.stdout
    assert "sk-ant-...1234" in result.stdout
    assert "Zm9vYmFy" not in result.stdout


async def test_rotate_keys_command_rewrites_old_values_and_reports(
    fresh_database: FreshDatabase, encryption_key: str, monkeypatch: object
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        user = await cadb.upsert_user(
            cadb.NewUser(provider="github", external_id="1", access_token="gho_x", username="u"),
            conn=pool,
        )
        await cadb.set_key(user_id=user.id, provider="openai", value="sk-old-key-value", conn=pool)
    finally:
        await pool.close()
    new_key = secrets.token_hex(32)
    environment = {
        "POSTGRES_URL": url,
        "ENCRYPTION_KEY": new_key,
        "ENCRYPTION_KEYS_PREVIOUS": encryption_key,
    }

    first = run_python(["-m", "coding_agent_db", "rotate-keys", "--batch-size", "1"], **environment)
    assert first.returncode == 0, first.stderr
    assert "rewrote 2 of 2 rows under the current key" in first.stdout
    again = run_python(["-m", "coding_agent_db", "rotate-keys"], **environment)
    assert "rewrote 0 of 2 rows" in again.stdout

    # The old key is no longer needed.
    without_old = {**environment, "ENCRYPTION_KEYS_PREVIOUS": ""}
    last = run_python(["-m", "coding_agent_db", "rotate-keys"], **without_old)
    assert last.returncode == 0, last.stdout
    assert "could not be decrypted" not in last.stdout


def test_the_benchmark_runs_both_implementations(
    server_url: str, tmp_path: Path, encryption_key: str
) -> None:
    # Speed is measured by make bench, not here: this only keeps the code working.
    out = tmp_path / "bench.json"
    result = run_python(
        ["-m", "bench.workload", "--rounds", "1", "--seconds", "0.2", "--json", str(out)],
        BENCH_POSTGRES_URL=server_url,
        ENCRYPTION_KEY=encryption_key,
    )
    assert result.returncode == 0, result.stderr
    modes = {mode["mode"]: mode for mode in json.loads(out.read_text())}
    assert set(modes) == {"single", "pool"}
    for mode in modes.values():
        assert mode["raw_runs_per_s"] > 0
        assert mode["layer_runs_per_s"] > 0


def test_the_scaling_figures_run_at_a_small_scale(
    server_url: str, tmp_path: Path, encryption_key: str
) -> None:
    out = tmp_path / "scaling.json"
    small = ["--appends", "5", "--calls", "5", "--max-log", "1000", "--other-users", "10"]
    small += ["--tasks-per-other-user", "10", "--own-tasks", "400"]
    result = run_python(
        ["-m", "bench.scaling", *small, "--json", str(out)],
        BENCH_POSTGRES_URL=server_url,
        ENCRYPTION_KEY=encryption_key,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert [row["entries"] for row in figures["logs"]] == [0, 1000]
    assert all(row["wal_bytes_per_append"] > 0 for row in figures["logs"])
    assert [latency["call"] for latency in figures["latencies"]] == [
        "check_rate_limit",
        "create_task",
        "list_tasks first page (20)",
        "list_tasks 200 deep (20)",
    ]
    assert "WAL/append" in result.stdout


def test_the_push_figures_run_at_a_small_scale(
    server_url: str, tmp_path: Path, encryption_key: str
) -> None:
    out = tmp_path / "push.json"
    listen = os.environ.get("TEST_POSTGRES_LISTEN_URL")
    result = run_python(
        ["-m", "bench.push", "--tasks", "3", "--appends", "5", "--json", str(out)],
        BENCH_POSTGRES_URL=listen or server_url,
        ENCRYPTION_KEY=encryption_key,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["entries"] == 15
    assert figures["missed"] == 0
    assert figures["latency_p99_ms"] >= figures["latency_p50_ms"] >= 0


async def test_rotate_keys_verify_reports_a_damaged_current_value(
    fresh_database: FreshDatabase, encryption_key: str
) -> None:
    url = fresh_database()
    pool = await cadb.create_pool(url)
    try:
        user = await cadb.upsert_user(
            cadb.NewUser(provider="github", external_id="1", access_token="gho_x", username="u"),
            conn=pool,
        )
        await cadb.set_key(user_id=user.id, provider="openai", value="sk-a-key-value", conn=pool)
        stored = await checks.get_raw_key_value(pool, user_id=user.id, provider="openai")
        damaged = stored[:-2] + ("AA" if stored[-2:] != "AA" else "BA")
        await checks.set_raw_key_value(pool, user_id=user.id, provider="openai", value=damaged)
    finally:
        await pool.close()
    environment = {"POSTGRES_URL": url, "ENCRYPTION_KEY": encryption_key}

    plain = run_python(["-m", "coding_agent_db", "rotate-keys"], **environment)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    verified = run_python(["-m", "coding_agent_db", "rotate-keys", "--verify"], **environment)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "1 values could not be decrypted" in verified.stdout
    assert "keys.value:" in verified.stdout
    assert "ENCRYPTION_LEGACY_READS=off" in verified.stdout  # no legacy value left
