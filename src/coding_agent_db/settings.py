"""Settings: per-user overrides of environment defaults.

``maxMessagesPerDay`` is the one the data layer itself reads: the daily limit
of tasks + user messages is the user's setting, else ``MAX_MESSAGES_PER_DAY``,
else ``DEFAULT_MAX_MESSAGES_PER_DAY``.
"""

from __future__ import annotations

import logging

from coding_agent_db.config import env_int
from coding_agent_db.errors import NotFoundError, ValidationError, user_must_exist
from coding_agent_db.ids import new_id
from coding_agent_db.models import NewSetting, Setting, convert, from_row
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = [
    "DEFAULT_MAX_MESSAGES_PER_DAY",
    "MAX_MESSAGES_PER_DAY",
    "delete_setting",
    "get_setting",
    "list_settings",
    "max_messages_per_day",
    "set_setting",
]

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_DAY = "maxMessagesPerDay"
DEFAULT_MAX_MESSAGES_PER_DAY = 5


def _parse_limit(value: str) -> int | None:
    """The integer a limit setting holds, or None when it holds something else."""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def daily_limit(setting: str | None) -> int:
    """The daily limit given the user's ``maxMessagesPerDay`` setting (or None)."""
    if setting is not None:
        limit = _parse_limit(setting)
        if limit is not None:
            return limit
        log.warning("ignoring a %s setting that is not a whole number", MAX_MESSAGES_PER_DAY)
    return env_int("MAX_MESSAGES_PER_DAY", DEFAULT_MAX_MESSAGES_PER_DAY)


async def get_setting(*, user_id: str, key: str, conn: Conn | None = None) -> Setting | None:
    """One of the user's settings, or None."""
    row = await queries.get_setting(await db(conn), user_id=user_id, key=key)
    return None if row is None else from_row(row, Setting)


async def list_settings(*, user_id: str, conn: Conn | None = None) -> list[Setting]:
    """The user's settings, by key."""
    return [
        from_row(row, Setting)
        async for row in queries.list_settings(await db(conn), user_id=user_id)
    ]


async def set_setting(*, user_id: str, key: str, value: str, conn: Conn | None = None) -> Setting:
    """Set one of the user's settings; known settings are checked (e.g. a limit is a number)."""
    setting = convert({"key": key, "value": value}, NewSetting)
    if setting.key == MAX_MESSAGES_PER_DAY and _parse_limit(setting.value) is None:
        raise ValidationError("value", f"{MAX_MESSAGES_PER_DAY} must be a whole number >= 0")
    with user_must_exist():
        row = await queries.upsert_setting(
            await db(conn), user_id=user_id, id=new_id(), key=setting.key, value=setting.value
        )
    return from_row(row, Setting)


async def delete_setting(*, user_id: str, key: str, conn: Conn | None = None) -> None:
    """Delete one of the user's settings; NotFoundError if it was not set."""
    if await queries.delete_setting(await db(conn), user_id=user_id, key=key) is None:
        raise NotFoundError(f"setting {key!r} is not set")


async def max_messages_per_day(*, user_id: str, conn: Conn | None = None) -> int:
    """The user's daily limit of tasks + user messages."""
    setting = await get_setting(user_id=user_id, key=MAX_MESSAGES_PER_DAY, conn=conn)
    return daily_limit(None if setting is None else setting.value)
