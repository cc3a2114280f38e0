"""Production faults: a transaction-mode pooler with several processes, held
locks, a partitioned network, killed backends, a migration killed mid-way."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import aiosql
import asyncpg
import psycopg
import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from coding_agent_db.migrate import LOCK_TIMEOUT, apply_migrations, find_migration_lock
from coding_agent_db.pool import DEADLINE_GRACE
from coding_agent_db.sql import DirectAsyncpgAdapter, queries
from tests.pgbouncer import running_pgbouncer, through
from tests.relay import Relay

faults: Any = aiosql.from_path(Path(__file__).parent / "queries", DirectAsyncpgAdapter)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pgbouncer_url(server_url: str, database_url: str) -> Iterator[str]:
    """The run's database through a PgBouncer of the module's own (transaction mode, 2 servers)."""
    with running_pgbouncer(server_url, pool_size=2) as port:
        yield through(port, database_url)


def _child_env() -> dict[str, str]:
    # The children run with the package's defaults: no POSTGRES_* tuning.
    return {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")}


async def _tasks_of(user: cadb.User, count: int) -> list[str]:
    ids = [new_id() for _ in range(count)]
    assert await faults.insert_raw_tasks(await cadb.get_pool(), user_id=user.id, ids=ids) == count
    return ids


async def _deleted_ids(user: cadb.User) -> set[str]:
    rows = faults.list_deleted_task_ids(await cadb.get_pool(), user_id=user.id)
    return {row["id"] async for row in rows}


class Role:
    """A child process of tests.pooler_roles, driven line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.pooler_roles", *args],
            cwd=REPO,
            env=_child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def say(self) -> str:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write("go\n")
        stdin.flush()
        return self.hear()

    def hear(self) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        return stdout.readline().strip()

    def finish(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(30)
        assert self.process.returncode == 0


async def _reproduce(mode: str, url: str, a: cadb.User, b: cadb.User) -> tuple[str, str, str]:
    """The issue's reproduction; returns B's two answers and task Y's fate."""
    [task_x] = await _tasks_of(a, 1)
    [task_y] = await _tasks_of(b, 1)
    holder = await asyncio.to_thread(Role, "hold-delete", mode, url, a.id, task_x)
    assert await asyncio.to_thread(holder.hear) == "held"
    beater = await asyncio.to_thread(Role, "heartbeat", mode, url, b.id, task_y)
    first = await asyncio.to_thread(beater.say)
    assert await asyncio.to_thread(holder.say) == "committed"
    second = await asyncio.to_thread(beater.say)
    await asyncio.to_thread(holder.finish)
    await asyncio.to_thread(beater.finish)
    assert task_x in await _deleted_ids(a)
    fate = "deleted" if task_y in await _deleted_ids(b) else "untouched"
    return first, second, fate


async def test_the_heartbeat_delete_reproduction_leaves_task_y_untouched_behind_pgbouncer(
    pgbouncer_url: str, make_user: Any
) -> None:
    a, b = await make_user(), await make_user()
    assert await _reproduce("package", pgbouncer_url, a, b) == ("ok", "ok", "untouched")


async def test_the_reproduction_does_delete_task_y_with_asyncpg_defaults(
    pgbouncer_url: str, make_user: Any
) -> None:
    # The control: the same two processes on asyncpg's defaults run A's
    # statement for B's call, so the test above can tell the difference.
    a, b = await make_user(), await make_user()
    first, second, fate = await _reproduce("stock", pgbouncer_url, a, b)
    assert (first, second, fate) == ("ok", "ok", "deleted")


def _run_workloads(url: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one tests.pooler_workload process per spec, at the same time; their reports."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.pooler_workload", url, "package", json.dumps(spec)],
            cwd=REPO,
            env=_child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    return [json.loads(child.communicate(timeout=120)[0]) for child in children]


async def test_two_processes_behind_pgbouncer_get_no_wrong_results_and_no_unissued_writes(
    pgbouncer_url: str, make_user: Any
) -> None:
    users = [await make_user(), await make_user()]
    specs = [
        {
            "user_id": user.id,
            "keep": await _tasks_of(user, 10),
            "victims": await _tasks_of(user, 100),
            "calls": 1500,
            "seed": seed,
        }
        for seed, user in enumerate(users)
    ]
    outcomes = await asyncio.to_thread(_run_workloads, pgbouncer_url, specs)
    for user, spec, outcome in zip(users, specs, outcomes, strict=True):
        assert outcome["calls"] == spec["calls"]
        assert outcome["wrong"] == []
        assert outcome["errors"] == {}
        # Every delete acknowledged happened, and nothing else was deleted.
        assert await _deleted_ids(user) == set(outcome["deleted"])
        assert len(outcome["deleted"]) > 50


async def test_a_pooler_is_detected_and_switches_the_statement_cache_off(
    pgbouncer_url: str, database_url: str, pooled: bool
) -> None:
    behind = await cadb.check_pooling(pgbouncer_url)
    assert (behind.pooler_detected, behind.transaction_pooler, behind.statement_cache) == (
        True,
        True,
        False,
    )
    direct = await cadb.check_pooling(database_url)
    assert direct.pooler_detected is pooled
    assert direct.statement_cache is not pooled


@pytest.fixture
def bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts for the next pools created."""
    monkeypatch.setenv("POSTGRES_LOCK_TIMEOUT", "0.5")
    monkeypatch.setenv("POSTGRES_STATEMENT_TIMEOUT", "1")
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("POSTGRES_POOL_MAX", "2")


async def test_a_held_row_lock_makes_create_task_time_out_while_other_users_proceed(
    bounded: None, database_url: str, make_user: Any, pooled: bool
) -> None:
    owner, other = await make_user(), await make_user()
    pool = await cadb.create_pool(database_url)
    holder = await asyncpg.connect(database_url, statement_cache_size=0)
    try:
        async with holder.transaction():
            await queries.lock_user(holder, user_id=owner.id)  # SELECT ... FOR UPDATE

            async def blocked_create() -> BaseException | None:
                started = time.monotonic()
                try:
                    await cadb.create_task(
                        user_id=owner.id, task=cadb.NewTask(prompt="p"), conn=pool
                    )
                except cadb.DatabaseTimeoutError as exc:
                    assert time.monotonic() - started < 1 + DEADLINE_GRACE
                    return exc
                return None

            async def other_users_calls() -> int:
                served = 0
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    assert await cadb.get_user(user_id=other.id, conn=pool) == other
                    served += 1
                return served

            # Two waiters take the whole pool of 2, as in the issue.
            first, second, served = await asyncio.gather(
                blocked_create(), blocked_create(), other_users_calls()
            )
        for timed_out in (first, second):
            assert isinstance(timed_out, cadb.DatabaseTimeoutError)
            # Directly the server's lock_timeout fires, or its statement_timeout
            # when the second waiter queued behind the first (lock_timeout applies
            # to each lock wait); behind a pooler the client's statement timeout.
            assert timed_out.what in (("statement",) if pooled else ("lock", "statement"))
            assert timed_out.statement == "create_task"
            assert isinstance(timed_out.__cause__, asyncpg.PostgresError | TimeoutError)
        assert served > 20
        # Once the lock is gone, the same pool serves the user again.
        task = await cadb.create_task(user_id=owner.id, task=cadb.NewTask(prompt="p"), conn=pool)
        assert task.user_id == owner.id
    finally:
        await holder.close()
        await pool.close()


async def test_a_partitioned_network_returns_within_the_stated_deadline(
    bounded: None, database_url: str, user: cadb.User, pooled: bool
) -> None:
    async with Relay(database_url).running() as relay:
        pool = await cadb.create_pool(relay.url())
        try:
            assert await cadb.get_user(user_id=user.id, conn=pool) == user
            relay.stall()
            started = time.monotonic()
            with pytest.raises(cadb.DatabaseTimeoutError) as raised:
                await cadb.get_user(user_id=user.id, conn=pool)
            elapsed = time.monotonic() - started
            # The stated bound: POSTGRES_STATEMENT_TIMEOUT (+ DEADLINE_GRACE when direct).
            assert elapsed < 1 + DEADLINE_GRACE + 1
            assert raised.value.what == ("statement" if pooled else "deadline")
            # Opening a pool through the partition ends at POSTGRES_CONNECT_TIMEOUT.
            started = time.monotonic()
            with pytest.raises(cadb.DatabaseTimeoutError) as raised:
                await cadb.create_pool(relay.url().replace("postgres@", "someone@"))
            assert time.monotonic() - started < 1 + 1
            assert raised.value.what == "connect"
        finally:
            pool.terminate()


@pytest.fixture
async def killing() -> AsyncIterator[None]:
    """For tests that kill every session of the database: the lazy pool's idle
    connections die too, so the next test starts with a new pool."""
    yield
    await cadb.close_pool()


def _kill_other_backends(database_url: str) -> int:
    """Kill every other session on the database, blocking the event loop meanwhile.

    Blocking on purpose: the pool's connections get no chance to notice before
    the next statement is sent on them, as with a backend killed between two calls.
    """
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as admin:
        killed: int = admin.execute(faults.terminate_other_backends.sql).fetchone()[0]  # type: ignore[index]
    return killed


@pytest.mark.usefixtures("killing")
async def test_killed_backends_during_reads_give_no_failed_single_reads(
    database_url: str, user: cadb.User, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    monkeypatch.setenv("POSTGRES_POOL_MIN", "4")
    monkeypatch.setenv("POSTGRES_POOL_MAX", "4")
    pool = await cadb.create_pool(database_url)
    [task_id] = await _tasks_of(user, 1)
    try:
        failed = killed = 0
        for _ in range(10):
            killed += _kill_other_backends(database_url)
            results = await asyncio.gather(
                *(cadb.get_user(user_id=user.id, conn=pool) for _ in range(4)),
                *(cadb.get_task(user_id=user.id, task_id=task_id, conn=pool) for _ in range(4)),
                return_exceptions=True,
            )
            failed += sum(isinstance(result, BaseException) for result in results)
            assert all(r == user for r in results[:4]), results
        assert failed == 0
        # Through a pooler the kill may find no other server session to kill.
        assert killed >= 10 or pooled
    finally:
        await pool.close()


@pytest.mark.usefixtures("killing")
async def test_a_killed_connection_held_by_the_caller_raises_database_unavailable(
    database_url: str, user: cadb.User
) -> None:
    # No retry on the caller's own connection (it may be inside their
    # transaction): the failure is the package's, with the driver's as cause.
    pool = await cadb.create_pool(database_url)
    held = await pool.acquire()
    try:
        # In a transaction, so that a pooler too keeps this session on its server.
        await held.transaction().start()
        assert await cadb.get_user(user_id=user.id, conn=held) == user
        _kill_other_backends(database_url)
        with pytest.raises(cadb.DatabaseUnavailableError) as raised:
            await cadb.get_user(user_id=user.id, conn=held)
        assert raised.value.statement == "get_user"
        assert isinstance(raised.value.__cause__, Exception)
        assert not isinstance(raised.value.__cause__, cadb.CodingAgentDbError)
    finally:
        await pool.release(held)
        await pool.close()


@pytest.mark.usefixtures("killing")
async def test_every_error_reaching_callers_under_killed_backends_is_the_packages(
    database_url: str, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_POOL_MAX", "4")
    pool = await cadb.create_pool(database_url)
    users = [await make_user() for _ in range(4)]
    tasks = {user.id: (await _tasks_of(user, 1))[0] for user in users}
    raised: list[Exception] = []
    calls = 0
    stop = asyncio.Event()

    async def worker(user: cadb.User) -> None:
        nonlocal calls
        task_id = tasks[user.id]
        while not stop.is_set():
            calls += 1
            try:
                async with cadb.connection() if calls % 3 == 0 else _no_connection(pool) as conn:
                    await cadb.get_task(user_id=user.id, task_id=task_id, conn=conn)
                    await cadb.append_task_log(
                        user_id=user.id,
                        task_id=task_id,
                        entry=cadb.LogEntry(type="info", message="m"),
                        conn=conn,
                    )
                    async with cadb.transaction(conn) as tx:
                        await cadb.touch_task_heartbeat(user_id=user.id, task_id=task_id, conn=tx)
                    await cadb.list_tasks(user_id=user.id, conn=conn)
            except Exception as exc:  # every error, to check its type below
                raised.append(exc)

    async def killer() -> None:
        for _ in range(15):
            await asyncio.sleep(0.1)
            await asyncio.to_thread(_kill_other_backends, database_url)
        stop.set()

    try:
        await asyncio.gather(killer(), *(worker(user) for user in users))
    finally:
        await pool.close()
    assert calls > 100
    foreign = [exc for exc in raised if not isinstance(exc, cadb.CodingAgentDbError)]
    assert foreign == []
    kinds = Counter(type(exc).__qualname__ for exc in raised)
    assert set(kinds) <= {"DatabaseUnavailableError", "DatabaseTimeoutError"}, kinds
    assert all(exc.__cause__ is not None for exc in raised)


class _no_connection:
    """``async with`` yielding the pool: each call takes a connection of its own."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    async def __aenter__(self) -> asyncpg.Pool[asyncpg.Record]:
        return self.pool

    async def __aexit__(self, *exc: object) -> None:
        return None


def _kill_nine_during_migration(database_url: str) -> None:
    """A process that takes yoyo's lock, then dies by SIGKILL."""
    code = (
        "import os, signal, sys\n"
        "from coding_agent_db.migrate import _backend\n"
        "with _backend(sys.argv[1]).lock():\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    died = subprocess.run([sys.executable, "-c", code, database_url], cwd=REPO, check=False)
    assert died.returncode == -9


def test_a_stale_migration_lock_is_reported_in_one_line_not_a_traceback(
    fresh_database: Any,
) -> None:
    url = fresh_database()
    _kill_nine_during_migration(url)
    held = find_migration_lock(url)
    assert held is not None
    assert held.pid > 0

    env = {**_child_env(), "POSTGRES_URL": url}
    started = time.monotonic()
    applied = subprocess.run(
        [str(Path(sys.executable).parent / "yoyo"), "apply", "--batch"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert time.monotonic() - started < LOCK_TIMEOUT + 10
    assert applied.returncode == 1
    assert "Traceback" not in applied.stderr
    message = applied.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"process {held.pid} since {held.since.isoformat(timespec='seconds')}" in message
    assert "`yoyo break-lock`" in message

    with pytest.raises(cadb.MigrationLockedError) as raised:
        apply_migrations(url, lock_timeout=1)
    assert raised.value.pid == held.pid

    subprocess.run(
        [str(Path(sys.executable).parent / "yoyo"), "break-lock", "--batch"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    assert find_migration_lock(url) is None
    assert apply_migrations(url) == 0  # the killed run had applied everything before dying


async def test_a_deadlock_reaches_the_caller_as_a_conflict_with_nothing_written(
    user: cadb.User,
) -> None:
    first, second = [
        await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt=f"task {n}"))
        for n in range(2)
    ]

    async def rename(conn: cadb.Connection, tasks: tuple[cadb.Task, ...], title: str) -> None:
        async with cadb.transaction(conn) as tx:
            for task in tasks:
                await cadb.update_task_title(user_id=user.id, task_id=task.id, title=title, conn=tx)
                await asyncio.sleep(0.2)  # the other transaction takes its first row meanwhile

    async with cadb.connection() as one, cadb.connection() as two:
        results = await asyncio.gather(
            rename(one, (first, second), "one"),
            rename(two, (second, first), "two"),
            return_exceptions=True,
        )
    conflicts = [r for r in results if isinstance(r, BaseException)]
    assert len(conflicts) == 1
    assert isinstance(conflicts[0], cadb.DatabaseConflictError)
    assert isinstance(conflicts[0], cadb.ConflictError)
    assert conflicts[0].statement == "update_task_title"
    winner = "one" if results[0] is None else "two"
    titles = {
        (await cadb.get_task(user_id=user.id, task_id=task.id)).title  # type: ignore[union-attr]
        for task in (first, second)
    }
    assert titles == {winner}
