"""Task messages: a user's messages (counted against the daily limit) and the
agent's replies, streamed in with atomic appends."""

from __future__ import annotations

from coding_agent_db.errors import InvalidTransitionError, NotFoundError, ValidationError
from coding_agent_db.ids import new_id
from coding_agent_db.models import NewMessage, TaskMessage, convert, from_row, storable_text
from coding_agent_db.pool import Conn, db
from coding_agent_db.rate_limit import limit_exceeded, limit_parameters
from coding_agent_db.sql import queries

__all__ = [
    "append_agent_message",
    "create_user_message",
    "list_task_messages",
    "start_agent_message",
]

MAX_MESSAGES_LISTED = 1000


async def create_user_message(
    *, user_id: str, task_id: str, content: str, conn: Conn | None = None
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
    message = convert({"content": content}, NewMessage)
    database = await db(conn)
    row = await queries.create_user_message(
        database,
        user_id=user_id,
        id=new_id(),
        task_id=task_id,
        content=message.content,
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


async def start_agent_message(
    *, user_id: str, task_id: str, conn: Conn | None = None
) -> TaskMessage:
    """Start an empty agent reply on the user's task, to stream chunks into."""
    row = await queries.create_agent_message(
        await db(conn), user_id=user_id, id=new_id(), task_id=task_id
    )
    if row is None:
        raise NotFoundError("no such task")
    return from_row(row, TaskMessage)


async def append_agent_message(
    *, user_id: str, message_id: str, delta: str, conn: Conn | None = None
) -> int:
    """Append a streamed chunk to an agent reply atomically; returns the reply's new length.

    Characters PostgreSQL cannot store (NUL, unpaired surrogates) become
    U+FFFD. NotFoundError if the message is not one of the user's agent
    replies, or its task is soft-deleted (like every other write to it).
    """
    if not isinstance(delta, str):
        raise ValidationError("delta", "must be a string")
    length: int | None = await queries.append_agent_message(
        await db(conn), user_id=user_id, message_id=message_id, delta=storable_text(delta)
    )
    if length is None:
        raise NotFoundError("no such agent message")
    return length


async def list_task_messages(
    *, user_id: str, task_id: str, limit: int = MAX_MESSAGES_LISTED, conn: Conn | None = None
) -> list[TaskMessage]:
    """The messages of the user's task, oldest first (empty if the task is not theirs)."""
    if not 1 <= limit <= MAX_MESSAGES_LISTED:
        raise ValidationError("limit", f"must be between 1 and {MAX_MESSAGES_LISTED}")
    return [
        from_row(row, TaskMessage)
        async for row in queries.list_task_messages(
            await db(conn), user_id=user_id, task_id=task_id, limit=limit
        )
    ]
