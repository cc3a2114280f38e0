"""The daily limit: tasks created + user messages sent per UTC day.

What counts is defined once, in the ``daily_usage`` view (migration 0009):
today's tasks and today's user-role messages, both only on tasks that are not
soft-deleted. Inserts that count (``create_task``, ``create_user_message``)
first lock the user's row, then insert only while the view's count is under
the limit, in one transaction: simultaneous requests of one user take turns,
so the limit holds under concurrency.
"""

from __future__ import annotations

from datetime import datetime

from coding_agent_db.errors import NotFoundError
from coding_agent_db.models import RateLimit
from coding_agent_db.pool import Conn, Connection, db
from coding_agent_db.settings import daily_limit
from coding_agent_db.sql import queries

__all__ = ["check_rate_limit"]


async def check_rate_limit(*, user_id: str, conn: Conn | None = None) -> RateLimit:
    """The user's allowance today, in one statement; NotFoundError if there is no such user."""
    row = await queries.get_daily_usage(await db(conn), user_id=user_id)
    if row is None:
        raise NotFoundError("no such user")
    total = daily_limit(row["max_messages_per_day"])
    used = row["used"]
    return RateLimit(
        allowed=used < total,
        remaining=max(total - used, 0),
        used=used,
        total=total,
        reset_at=row["resets_at"],
    )


async def lock_daily_limit(tx: Connection, user_id: str) -> tuple[int, datetime]:
    """Lock the user for a limited insert in transaction ``tx``: their limit and its reset time.

    NotFoundError if there is no such user.
    """
    row = await queries.lock_user_for_daily_limit(tx, user_id=user_id)
    if row is None:
        raise NotFoundError("no such user")
    return daily_limit(row["max_messages_per_day"]), row["resets_at"]
