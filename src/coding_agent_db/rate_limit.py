"""The daily limit: tasks created + user messages sent per UTC day.

What counts is defined once, in the ``daily_usage`` view (migration 0009):
today's tasks and today's user-role messages, both only on tasks that are not
soft-deleted. The limit is the user's ``maxMessagesPerDay`` setting, else
``MAX_MESSAGES_PER_DAY``, else ``DEFAULT_MAX_MESSAGES_PER_DAY``.

The inserts that count (``create_task``, ``create_user_message``) enforce it
in their own statement: ``lock_daily_usage()`` (migration 0010) locks the
user's row and then counts, so simultaneous requests of one user take turns
and each sees the others' rows. The limit holds under concurrency with no
extra round trip.
"""

from __future__ import annotations

from coding_agent_db.boundary import boundary
from coding_agent_db.config import env_int
from coding_agent_db.errors import NotFoundError, RateLimitExceededError
from coding_agent_db.models import RateLimit, UserId
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = ["DEFAULT_MAX_MESSAGES_PER_DAY", "check_rate_limit", "default_daily_limit"]

DEFAULT_MAX_MESSAGES_PER_DAY = 5


def default_daily_limit() -> int:
    """The limit of users without a maxMessagesPerDay setting."""
    return env_int("MAX_MESSAGES_PER_DAY", DEFAULT_MAX_MESSAGES_PER_DAY)


@boundary
async def check_rate_limit(*, user_id: UserId, conn: Conn | None = None) -> RateLimit:
    """The user's allowance today, in one statement; NotFoundError if there is no such user."""
    row = await queries.get_daily_usage(await db(conn), user_id=user_id)
    if row is None:
        raise NotFoundError("no such user")
    setting = row["max_messages_per_day"]
    total = default_daily_limit() if setting is None else setting
    used = row["used"]
    return RateLimit(
        allowed=used < total,
        remaining=max(total - used, 0),
        used=used,
        total=total,
        reset_at=row["resets_at"],
    )


async def limit_exceeded(*, user_id: str, conn: Conn) -> RateLimitExceededError:
    """The error for a limited insert that inserted nothing (NotFoundError: no such user)."""
    limit = await check_rate_limit(user_id=user_id, conn=conn)
    return RateLimitExceededError(total=limit.total, reset_at=limit.reset_at)
