"""Push (coding_agent_db.follow): what is written reaches followers, in order, once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import coding_agent_db as cadb
from coding_agent_db import follow
from tests.conftest import MakeUser, checks
from tests.pgbouncer import running_pgbouncer, through


@pytest.fixture(autouse=True)
async def own_listener(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Each test starts and ends without a listener connection.

    The safety-net read is pushed out of the tests' time: what arrives, arrives
    by notification (or by the catch-up after a reconnect).
    """
    monkeypatch.setenv("POSTGRES_FOLLOW_SAFETY_NET", "60")
    cadb.close_listener()
    yield
    cadb.close_listener()


@pytest.fixture
async def roomy(make_user: MakeUser) -> cadb.User:
    user = await make_user()
    await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value="1000")
    return user


def info(message: str) -> cadb.LogEntry:
    return cadb.LogEntry(type="info", message=message)


async def collect(stream: AsyncIterator[list[cadb.LogEntry]]) -> list[str]:
    seen: list[str] = []
    async for batch in stream:
        seen += [entry.message for entry in batch]
    return seen


async def listening() -> None:
    """Until the running loop's listener is connected (a follower's first read is done)."""
    await follow.listener().connected.wait()


async def test_50_concurrent_tasks_deliver_every_entry_in_order_exactly_once(
    roomy: cadb.User,
) -> None:
    tasks = [
        await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt=f"run {n}"))
        for n in range(50)
    ]
    followers = [
        asyncio.create_task(collect(cadb.follow_task_logs(user_id=roomy.id, task_id=task.id)))
        for task in tasks
    ]
    await listening()
    rng = random.Random(7)  # noqa: S311 - the agents' timing jitter

    async def agent(task: cadb.Task) -> list[str]:
        written: list[str] = []
        for batch in range(20):
            lines = [f"{task.id} {batch}.{n}" for n in range(rng.randint(1, 3))]
            await cadb.append_task_logs(
                user_id=roomy.id, task_id=task.id, entries=[info(line) for line in lines]
            )
            written += lines
            await asyncio.sleep(rng.random() / 100)
        await cadb.update_task_status(user_id=roomy.id, task_id=task.id, status="completed")
        return written

    written = await asyncio.gather(*(agent(task) for task in tasks))

    # Every follower ends by itself at the final status, with exactly what was written.
    received = await asyncio.wait_for(asyncio.gather(*followers), 30)
    assert received == written


async def test_followers_of_one_task_share_each_read(
    roomy: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    real_get_task = cadb.get_task

    async def counted(**arguments: Any) -> cadb.Task | None:
        nonlocal reads
        reads += 1
        return await real_get_task(**arguments)

    monkeypatch.setattr("coding_agent_db.follow.get_task", counted)
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="shared"))
    followers = [
        asyncio.create_task(collect(cadb.follow_task_logs(user_id=roomy.id, task_id=task.id)))
        for _ in range(10)
    ]
    await listening()
    await asyncio.sleep(0.1)
    reads = 0
    for n in range(20):
        await cadb.append_task_log(user_id=roomy.id, task_id=task.id, entry=info(f"line {n}"))
        await asyncio.sleep(0.02)
    await cadb.update_task_status(user_id=roomy.id, task_id=task.id, status="stopped")

    received = await asyncio.wait_for(asyncio.gather(*followers), 10)
    assert received == [[f"line {n}" for n in range(20)]] * 10
    # One read per change for all ten followers, not ten (a few more when a
    # notification lands while a read is under way).
    assert reads <= 2 * 21


async def test_a_killed_listener_loses_nothing_and_repeats_nothing(roomy: cadb.User) -> None:
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="kill"))
    follower = asyncio.create_task(
        collect(cadb.follow_task_logs(user_id=roomy.id, task_id=task.id))
    )
    await listening()
    written = [f"line {n}" for n in range(300)]
    async with cadb.connection() as conn:
        for n, line in enumerate(written):
            await cadb.append_task_log(user_id=roomy.id, task_id=task.id, entry=info(line))
            if n in (100, 200):
                pid = follow.listener().backend_pid
                assert pid is not None
                assert await checks.terminate_backend(conn, pid=pid) is True
            await asyncio.sleep(0.001)
    await cadb.update_task_status(user_id=roomy.id, task_id=task.id, status="completed")

    assert await asyncio.wait_for(follower, 30) == written


async def test_another_users_follow_is_answered_as_a_missing_task(
    roomy: cadb.User, make_user: MakeUser
) -> None:
    intruder = await make_user()
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="mine"))
    await cadb.append_task_log(user_id=roomy.id, task_id=task.id, entry=info("secret plan"))
    reply = await cadb.start_agent_message(user_id=roomy.id, task_id=task.id)

    for task_id in (task.id, "no-such-task"):
        with pytest.raises(cadb.NotFoundError) as raised:
            await collect(cadb.follow_task_logs(user_id=intruder.id, task_id=task_id))
        assert str(raised.value) == "no such task"
    for message_id in (reply.id, "no-such-message"):
        with pytest.raises(cadb.NotFoundError) as raised:
            async for _ in cadb.follow_agent_message(user_id=intruder.id, message_id=message_id):
                pass
        assert str(raised.value) == "no such message"


async def test_a_reply_streams_until_it_is_complete(roomy: cadb.User) -> None:
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="talk"))
    reply = await cadb.start_agent_message(user_id=roomy.id, task_id=task.id)

    async def read_all() -> str:
        return "".join(
            [
                piece
                async for piece in cadb.follow_agent_message(user_id=roomy.id, message_id=reply.id)
            ]
        )

    reader = asyncio.create_task(read_all())
    await listening()
    chunks = [f"chunk {n} " for n in range(30)]
    for chunk in chunks:
        await cadb.append_agent_message(user_id=roomy.id, message_id=reply.id, delta=chunk)
    await cadb.complete_agent_message(user_id=roomy.id, message_id=reply.id)

    assert await asyncio.wait_for(reader, 10) == "".join(chunks)


async def test_a_follow_from_an_index_gets_the_rest_and_ends_at_a_final_status(
    roomy: cadb.User,
) -> None:
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="done"))
    entries = [info(f"line {n}") for n in range(250)]
    await cadb.append_task_logs(user_id=roomy.id, task_id=task.id, entries=entries)
    await cadb.update_task_status(user_id=roomy.id, task_id=task.id, status="error")

    rest = await collect(cadb.follow_task_logs(user_id=roomy.id, task_id=task.id, after=240))

    assert rest == [f"line {n}" for n in range(240, 250)]


async def test_the_apps_own_writes_are_pushed_too(roomy: cadb.User) -> None:
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="app"))
    received: list[str] = []
    arrived = asyncio.Event()

    async def follower() -> None:
        async for batch in cadb.follow_task_logs(user_id=roomy.id, task_id=task.id):
            received.extend(entry.message for entry in batch)
            arrived.set()

    following = asyncio.create_task(follower())
    await listening()
    async with cadb.connection() as conn:
        # The TypeScript app's TaskLogger: read the log, write it back with one more.
        entry = {"type": "info", "message": "from the app", "timestamp": "2025-01-01T00:00:00Z"}
        await checks.set_raw_task_logs(conn, task_id=task.id, logs=[entry])
    # The safety net is 60 s away: only the push can bring it this soon.
    await asyncio.wait_for(arrived.wait(), 5)
    assert received == ["from the app"]
    await cadb.update_task_status(user_id=roomy.id, task_id=task.id, status="completed")
    await asyncio.wait_for(following, 10)


@pytest.fixture
def pgbouncer_listen_url(server_url: str, database_url: str) -> Iterator[str]:
    with running_pgbouncer(server_url, pool_size=2) as port:
        yield through(port, database_url)


async def test_a_listener_through_a_pooler_is_refused_naming_the_setting(
    roomy: cadb.User, pgbouncer_listen_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="pooled"))
    monkeypatch.setenv("POSTGRES_LISTEN_URL", pgbouncer_listen_url)

    with pytest.raises(cadb.ConfigurationError) as raised:
        await collect(cadb.follow_task_logs(user_id=roomy.id, task_id=task.id))

    assert "POSTGRES_LISTEN_URL goes through a pooler" in str(raised.value)
    assert pgbouncer_listen_url not in str(raised.value)


@pytest.mark.parametrize("ticks", [0, 1, 2, 3])
async def test_a_follower_cancelled_as_it_is_woken_stops(roomy: cadb.User, ticks: int) -> None:
    # A notification and the caller's cancellation in the same moment: the cancellation
    # must win (Python 3.11's asyncio.wait_for returns the wake-up instead, and the
    # follower goes on waiting for ever).
    task = await cadb.create_task(user_id=roomy.id, task=cadb.NewTask(prompt="cancel me"))
    stream = cadb.follow_task_logs(user_id=roomy.id, task_id=task.id, after=1)
    reading = asyncio.create_task(anext(stream))
    await listening()  # the follower's feed is registered before its listener connects
    feeds = follow.listener().feeds[("task", task.id)]
    await asyncio.sleep(0.1)  # the follower's first read is done: it waits to be woken
    for feed in feeds.values():
        feed.wake()
    for _ in range(ticks):
        await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(reading, 5)
    await stream.aclose()
