"""The daily limit: tasks created + user messages sent per UTC day.

What counts is defined once, in the ``daily_usage`` view (migration 0009):
today's tasks and today's user-role messages, both only on tasks that are not
soft-deleted; a task's prompt message (id = task id) is not counted, the task
is. The limit, as in the TypeScript app: ``ADMIN_MAX_MESSAGES_PER_DAY`` for a
user whose email ends in a domain of ``NEXT_PUBLIC_ADMIN_EMAIL_DOMAINS``
(comma-separated), else their ``maxMessagesPerDay`` setting, else
``MAX_MESSAGES_PER_DAY``, else ``DEFAULT_MAX_MESSAGES_PER_DAY``. The SQL
function ``daily_message_limit`` (migration 0011) is its one definition.

The inserts that count (``create_task``, ``create_user_message``) enforce it
in their own statement: ``lock_daily_usage()`` (migration 0010) locks the
user's row and then counts, so simultaneous requests of one user take turns
and each sees the others' rows. The limit holds under concurrency with no
extra round trip.
"""

from __future__ import annotations

from typing import Any

from coding_agent_db.config import env, env_int
from coding_agent_db.errors import NotFoundError, RateLimitExceededError
from coding_agent_db.models import RateLimit
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = [
    "ADMIN_MAX_MESSAGES_PER_DAY",
    "DEFAULT_MAX_MESSAGES_PER_DAY",
    "admin_email_domains",
    "check_rate_limit",
    "default_daily_limit",
    "limit_parameters",
]

DEFAULT_MAX_MESSAGES_PER_DAY = 20
ADMIN_MAX_MESSAGES_PER_DAY = 100


def default_daily_limit() -> int:
    """The limit of users without a maxMessagesPerDay setting."""
    return env_int("MAX_MESSAGES_PER_DAY", DEFAULT_MAX_MESSAGES_PER_DAY)


def admin_email_domains() -> list[str]:
    """``NEXT_PUBLIC_ADMIN_EMAIL_DOMAINS``, normalised like the app: lowercase, each ``@domain``."""
    domains = (
        domain.strip().lower()
        for domain in (env("NEXT_PUBLIC_ADMIN_EMAIL_DOMAINS") or "").split(",")
    )
    return [domain if domain.startswith("@") else f"@{domain}" for domain in domains if domain]


def limit_parameters() -> dict[str, Any]:
    """The configuration the SQL needs to compute a user's limit (``daily_message_limit``)."""
    return {
        "default_daily_limit": default_daily_limit(),
        "admin_email_domains": admin_email_domains(),
        "admin_daily_limit": ADMIN_MAX_MESSAGES_PER_DAY,
    }


async def check_rate_limit(*, user_id: str, conn: Conn | None = None) -> RateLimit:
    """The user's allowance today, in one statement; NotFoundError if there is no such user."""
    row = await queries.get_daily_usage(await db(conn), user_id=user_id, **limit_parameters())
    if row is None:
        raise NotFoundError("no such user")
    total = row["total"]
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
