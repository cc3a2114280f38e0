"""Task messages: a user's messages (counted against the daily limit) and the
agent's replies, streamed in with atomic appends.

A reply's secrets are redacted three times over, because a secret can arrive
split across chunks: each chunk is redacted as it is appended (a secret whole
in one chunk never reaches the table); while the reply streams, readers get
its content redacted as a whole, without its last word if that word could be
the start of a secret still arriving (``list_task_messages``); and
``complete_agent_message`` stores it redacted as a whole and closes it. A
reply is at most ``MAX_AGENT_MESSAGE_LENGTH`` characters: what goes beyond is
cut, and the reply ends with a marker saying so.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from coding_agent_db.boundary import boundary
from coding_agent_db.errors import InvalidTransitionError, NotFoundError
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    MessageContent,
    RowId,
    TaskMessage,
    UserId,
    from_row,
    storable_text,
)
from coding_agent_db.pool import Conn, db, transaction
from coding_agent_db.rate_limit import limit_exceeded, limit_parameters
from coding_agent_db.redact import may_hold_secret, redact
from coding_agent_db.sql import queries

__all__ = [
    "MAX_AGENT_MESSAGE_LENGTH",
    "append_agent_message",
    "complete_agent_message",
    "create_user_message",
    "get_agent_message",
    "list_task_messages",
    "start_agent_message",
]

MAX_MESSAGES_LISTED = 1000
MAX_AGENT_MESSAGE_LENGTH = 100_000
"""Characters an agent reply may hold; a longer one is cut and ends with ``TRUNCATED_REPLY``."""
TRUNCATED_REPLY = f"... [truncated: reply longer than {MAX_AGENT_MESSAGE_LENGTH} characters]"


@boundary
async def create_user_message(
    *, user_id: UserId, task_id: RowId, content: MessageContent, conn: Conn | None = None
) -> TaskMessage:
    """Add the user's message to their active task, counted against the daily limit.

    One statement locks the user, counts and inserts (see ``rate_limit``).
    Only a pending or processing task takes a message: a follow-up to a
    finished task goes through ``continue_task`` (which reopens it), so it
    is never charged without being acted on. Raises RateLimitExceededError
    when the limit is used up (even under concurrent sends),
    InvalidTransitionError for a finished task, NotFoundError if the task is
    not the user's.
    """
    database = await db(conn)
    row = await queries.create_user_message(
        database,
        user_id=user_id,
        id=new_id(),
        task_id=task_id,
        content=content,
        **limit_parameters(),
    )
    if row is None:
        status = await queries.get_task_status(database, user_id=user_id, task_id=task_id)
        if status is None:
            raise NotFoundError("no such task")
        if status not in ("pending", "processing"):
            raise InvalidTransitionError(f"task is {status}: continue it with continue_task")
        raise await limit_exceeded(user_id=user_id, conn=database)
    return from_row(row, TaskMessage)


@boundary
async def start_agent_message(
    *, user_id: UserId, task_id: RowId, conn: Conn | None = None
) -> TaskMessage:
    """Start an empty agent reply on the user's task, to stream chunks into."""
    row = await queries.create_agent_message(
        await db(conn), user_id=user_id, id=new_id(), task_id=task_id
    )
    if row is None:
        raise NotFoundError("no such task")
    return from_row(row, TaskMessage)


@boundary
async def append_agent_message(
    *, user_id: UserId, message_id: RowId, delta: str, conn: Conn | None = None
) -> int:
    """Append a streamed chunk to an agent reply atomically; returns the reply's new length.

    The chunk is redacted; characters PostgreSQL cannot store (NUL, unpaired
    surrogates) become U+FFFD; the reply is cut at ``MAX_AGENT_MESSAGE_LENGTH``.
    NotFoundError if the message is not one of the user's agent replies or its
    task is soft-deleted (like every other write to it), InvalidTransitionError
    if the reply is complete.
    """
    # One character past the cap is enough for the statement to cut and mark.
    delta = redact(storable_text(delta[: MAX_AGENT_MESSAGE_LENGTH + 1]))
    database = await db(conn)
    length: int | None = await queries.append_agent_message(
        database,
        user_id=user_id,
        message_id=message_id,
        delta=delta,
        max_length=MAX_AGENT_MESSAGE_LENGTH,
        marker=TRUNCATED_REPLY,
    )
    if length is None:
        row = await queries.lock_agent_message(database, user_id=user_id, message_id=message_id)
        if row is None:
            raise NotFoundError("no such agent message")
        raise InvalidTransitionError("the agent message is complete")
    return length


def _capped(content: str) -> str:
    if len(content) <= MAX_AGENT_MESSAGE_LENGTH:
        return content
    return content[: MAX_AGENT_MESSAGE_LENGTH - len(TRUNCATED_REPLY)] + TRUNCATED_REPLY


@boundary
async def complete_agent_message(
    *, user_id: UserId, message_id: RowId, conn: Conn | None = None
) -> TaskMessage:
    """Mark the user's agent reply complete, storing it redacted as a whole; returns it.

    This is the end of the stream: later chunks raise InvalidTransitionError.
    Completing twice is harmless. NotFoundError if the message is not one of
    the user's agent replies.
    """
    async with transaction(conn) as tx:
        row = await queries.lock_agent_message(tx, user_id=user_id, message_id=message_id)
        if row is None:
            raise NotFoundError("no such agent message")
        completed = await queries.complete_agent_message(
            tx, user_id=user_id, message_id=message_id, content=_capped(redact(row["content"]))
        )
    return from_row(completed, TaskMessage)


def _streaming_view(content: str) -> str:
    """What readers see of a reply still streaming.

    Redacted as a whole (a secret may span chunks), and without its last word
    when that word could be a secret still arriving (``sk-ant-api03-Ab``: too
    short yet for its pattern); it shows once the word ends or the reply does.
    """
    content = redact(content)
    # rfind, not a regex: a 100k-character word must not cost a quadratic search.
    word_start = max(content.rfind(space) for space in " \t\n\r\f\v") + 1
    if may_hold_secret(content[word_start:]):
        content = content[:word_start]
    return content


def _shown(message: TaskMessage) -> TaskMessage:
    """A reply as readers see it: complete, or its streaming view."""
    if message.completed_at is not None or message.role != "agent":
        return message
    content = _streaming_view(message.content)
    if content == message.content:
        return message
    return TaskMessage(
        id=message.id,
        task_id=message.task_id,
        user_id=message.user_id,
        role=message.role,
        content=content,
        created_at=message.created_at,
        completed_at=None,
    )


@boundary
async def get_agent_message(
    *, user_id: UserId, message_id: RowId, conn: Conn | None = None
) -> TaskMessage | None:
    """The user's agent reply as readers see it (redacted whole while it streams), or None."""
    row = await queries.get_agent_message(await db(conn), user_id=user_id, message_id=message_id)
    return None if row is None else _shown(from_row(row, TaskMessage))


@boundary
async def list_task_messages(
    *,
    user_id: UserId,
    task_id: RowId,
    limit: Annotated[int, Meta(ge=1, le=MAX_MESSAGES_LISTED)] = MAX_MESSAGES_LISTED,
    conn: Conn | None = None,
) -> list[TaskMessage]:
    """The messages of the user's task, oldest first (empty if the task is not theirs).

    Replies still streaming are shown redacted as a whole.
    """
    return [
        _shown(from_row(row, TaskMessage))
        async for row in queries.list_task_messages(
            await db(conn), user_id=user_id, task_id=task_id, limit=limit
        )
    ]
