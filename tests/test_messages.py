"""Task messages: user messages under the daily limit, agent replies streamed in chunks."""

from __future__ import annotations

import asyncio

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from tests.conftest import checks


async def allow(user_id: str, per_day: int) -> None:
    await cadb.set_setting(user_id=user_id, key="maxMessagesPerDay", value=str(per_day))


async def follow_ups(
    user_id: str, task_id: str, conn: cadb.Connection | None = None
) -> list[cadb.TaskMessage]:
    """The task's messages after its prompt message (which create_task records first)."""
    prompt, *rest = await cadb.list_task_messages(user_id=user_id, task_id=task_id, conn=conn)
    assert (prompt.id, prompt.role) == (task_id, "user")
    return rest


@pytest.fixture
async def task(conn: cadb.Connection, user: cadb.User) -> cadb.Task:
    """A task of ``user``, who may send 100 messages today."""
    await allow(user.id, 100)
    return await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)


async def test_create_user_message_stores_the_message(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    message = await cadb.create_user_message(
        user_id=user.id, task_id=task.id, content="please also add tests", conn=conn
    )
    assert (message.task_id, message.user_id, message.role, message.content) == (
        task.id,
        user.id,
        "user",
        "please also add tests",
    )
    assert message.created_at.tzinfo is not None
    assert await follow_ups(user.id, task.id, conn) == [message]


async def test_a_user_message_counts_toward_the_daily_limit(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    before = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    await cadb.create_user_message(user_id=user.id, task_id=task.id, content="more", conn=conn)
    after = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    assert after.used == before.used + 1
    assert after.remaining == before.remaining - 1


async def test_a_user_message_is_refused_once_the_limit_is_used_up(
    conn: cadb.Connection, user: cadb.User
) -> None:
    await allow(user.id, 2)
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)
    first = await cadb.create_user_message(
        user_id=user.id, task_id=task.id, content="one", conn=conn
    )

    with pytest.raises(cadb.RateLimitExceededError) as caught:
        await cadb.create_user_message(user_id=user.id, task_id=task.id, content="two", conn=conn)

    assert (caught.value.remaining, caught.value.total) == (0, 2)
    assert await follow_ups(user.id, task.id, conn) == [first]


async def test_the_limit_holds_for_simultaneous_user_messages(user: cadb.User) -> None:
    await allow(user.id, 6)
    task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"))

    results = await asyncio.gather(
        *(
            cadb.create_user_message(user_id=user.id, task_id=task.id, content=f"m{n}")
            for n in range(20)
        ),
        return_exceptions=True,
    )

    sent = [result for result in results if isinstance(result, cadb.TaskMessage)]
    refused = [result for result in results if isinstance(result, cadb.RateLimitExceededError)]
    assert (len(sent), len(refused)) == (5, 15)
    listed = await follow_ups(user.id, task.id)
    assert sorted(message.id for message in listed) == sorted(message.id for message in sent)


@pytest.mark.parametrize("content", ["", "   ", "\n"])
async def test_a_blank_user_message_is_refused(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task, content: str
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_user_message(user_id=user.id, task_id=task.id, content=content, conn=conn)
    assert caught.value.field == "content"


async def test_a_user_message_with_a_nul_character_is_refused_naming_the_content(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_user_message(
            user_id=user.id, task_id=task.id, content="a\x00b", conn=conn
        )
    assert caught.value.field == "content"


async def test_a_user_message_on_a_missing_or_deleted_task_raises_not_found(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.create_user_message(user_id=user.id, task_id=new_id(), content="x", conn=conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.create_user_message(user_id=user.id, task_id=task.id, content="x", conn=conn)
    # Only the prompt message, which create_task recorded.
    assert '"content": "x"' not in await checks.get_raw_task_messages_text(conn, task_id=task.id)


async def test_start_agent_message_creates_an_empty_agent_reply(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    assert (reply.task_id, reply.user_id, reply.role, reply.content) == (
        task.id,
        user.id,
        "agent",
        "",
    )


async def test_start_agent_message_on_a_missing_or_deleted_task_raises_not_found(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.start_agent_message(user_id=user.id, task_id=new_id(), conn=conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)


async def test_append_agent_message_appends_chunks_and_returns_the_length(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    lengths = [
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta=chunk, conn=conn
        )
        for chunk in ("I fixed ", "the bug", " in login.ts", "")
    ]
    assert lengths == [8, 15, 27, 27]
    (stored,) = await follow_ups(user.id, task.id, conn)
    assert stored.content == "I fixed the bug in login.ts"


async def test_append_agent_message_keeps_every_chunk_under_concurrency(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    chunks = [f"<chunk {n:03d}>" for n in range(100)]

    lengths = await asyncio.gather(
        *(
            cadb.append_agent_message(user_id=user.id, message_id=reply.id, delta=chunk)
            for chunk in chunks
        )
    )

    (stored,) = await follow_ups(user.id, task.id, conn)
    assert len(stored.content) == sum(len(chunk) for chunk in chunks)
    assert all(stored.content.count(chunk) == 1 for chunk in chunks)
    assert max(lengths) == len(stored.content)
    assert len(set(lengths)) == len(chunks)


async def test_a_streamed_chunk_with_a_nul_character_is_stored_or_refused_cleanly(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    """PostgreSQL text cannot hold NUL: the chunk is cleaned, or refused naming ``delta``."""
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    refusal: cadb.ValidationError | None = None
    try:
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta="a\x00b", conn=conn
        )
    except cadb.ValidationError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.field == "delta"
    else:
        (stored,) = await follow_ups(user.id, task.id, conn)
        assert stored.content.startswith("a")
        assert stored.content.endswith("b")
        assert "\x00" not in stored.content


async def test_appending_to_a_user_message_raises_not_found(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    message = await cadb.create_user_message(
        user_id=user.id, task_id=task.id, content="mine", conn=conn
    )
    with pytest.raises(cadb.NotFoundError):
        await cadb.append_agent_message(
            user_id=user.id, message_id=message.id, delta="injected", conn=conn
        )
    assert await follow_ups(user.id, task.id, conn) == [message]


async def test_appending_to_a_missing_message_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.append_agent_message(user_id=user.id, message_id=new_id(), delta="x", conn=conn)


async def test_a_chunk_arriving_after_its_task_was_deleted_is_refused_like_every_write(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    """A user deleting a task races the agent streaming into it: the late chunk
    is refused (NotFoundError, as every other write to a deleted task) and not stored."""
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)

    with pytest.raises(cadb.NotFoundError):
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta="late chunk", conn=conn
        )

    assert "late chunk" not in await checks.get_raw_task_messages_text(conn, task_id=task.id)
    with pytest.raises(cadb.NotFoundError):
        await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)


async def test_append_agent_message_refuses_a_delta_that_is_not_text(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.append_agent_message(
            user_id=user.id,
            message_id=reply.id,
            delta=None,  # type: ignore[arg-type]
            conn=conn,
        )
    assert caught.value.field == "delta"


async def test_list_task_messages_returns_them_in_the_order_written(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    question = await cadb.create_user_message(
        user_id=user.id, task_id=task.id, content="why?", conn=conn
    )
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    await cadb.append_agent_message(
        user_id=user.id, message_id=reply.id, delta="because", conn=conn
    )
    follow_up = await cadb.create_user_message(
        user_id=user.id, task_id=task.id, content="ok", conn=conn
    )

    listed = await follow_ups(user.id, task.id, conn)

    assert [(message.id, message.role) for message in listed] == [
        (question.id, "user"),
        (reply.id, "agent"),
        (follow_up.id, "user"),
    ]
    assert listed[1].content == "because"


async def test_messages_written_in_one_transaction_keep_their_order(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    async with cadb.transaction(conn) as tx:
        written = [
            await cadb.create_user_message(
                user_id=user.id, task_id=task.id, content=f"m{n}", conn=tx
            )
            if n % 2 == 0
            else await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=tx)
            for n in range(6)
        ]
    listed = await follow_ups(user.id, task.id, conn)
    assert [message.id for message in listed] == [message.id for message in written]


async def test_list_task_messages_respects_the_limit(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    for n in range(3):
        await cadb.create_user_message(user_id=user.id, task_id=task.id, content=f"{n}", conn=conn)
    listed = await cadb.list_task_messages(user_id=user.id, task_id=task.id, limit=2, conn=conn)
    assert [message.content for message in listed] == ["p", "0"]  # the prompt first
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.list_task_messages(user_id=user.id, task_id=task.id, limit=0, conn=conn)
    assert caught.value.field == "limit"


async def test_list_task_messages_of_a_deleted_task_is_empty(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    await cadb.create_user_message(user_id=user.id, task_id=task.id, content="x", conn=conn)
    await cadb.delete_task(user_id=user.id, task_id=task.id, conn=conn)
    assert await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn) == []
