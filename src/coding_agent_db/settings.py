"""Settings: per-user overrides of environment defaults.

``maxMessagesPerDay`` is the one the data layer itself reads (see
``rate_limit``); it must be a whole number, which ``set_setting`` checks.
"""

from __future__ import annotations

import re

from coding_agent_db.boundary import boundary
from coding_agent_db.errors import NotFoundError, ValidationError, user_must_exist
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    NewSetting,
    Setting,
    SettingKey,
    SettingName,
    SettingValue,
    UserId,
    convert,
    from_row,
)
from coding_agent_db.pool import Conn, db
from coding_agent_db.rate_limit import check_rate_limit
from coding_agent_db.sql import queries

__all__ = [
    "MAX_MESSAGES_PER_DAY",
    "delete_setting",
    "get_setting",
    "list_settings",
    "max_messages_per_day",
    "set_setting",
]

MAX_MESSAGES_PER_DAY = "maxMessagesPerDay"
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # as the daily_usage view reads it


@boundary
async def get_setting(
    *, user_id: UserId, key: SettingName, conn: Conn | None = None
) -> Setting | None:
    """One of the user's settings, or None."""
    row = await queries.get_setting(await db(conn), user_id=user_id, key=key)
    return None if row is None else from_row(row, Setting)


@boundary
async def list_settings(*, user_id: UserId, conn: Conn | None = None) -> list[Setting]:
    """The user's settings, by key."""
    return [
        from_row(row, Setting)
        async for row in queries.list_settings(await db(conn), user_id=user_id)
    ]


@boundary
async def set_setting(
    *, user_id: UserId, key: SettingKey, value: SettingValue, conn: Conn | None = None
) -> Setting:
    """Set one of the user's settings; known settings are checked (e.g. a limit is a number)."""
    setting = convert({"key": key, "value": value}, NewSetting)
    if setting.key == MAX_MESSAGES_PER_DAY and _WHOLE_NUMBER.fullmatch(setting.value) is None:
        raise ValidationError("value", f"{MAX_MESSAGES_PER_DAY} must be a whole number >= 0")
    with user_must_exist():
        row = await queries.upsert_setting(
            await db(conn), user_id=user_id, id=new_id(), key=setting.key, value=setting.value
        )
    return from_row(row, Setting)


@boundary
async def delete_setting(*, user_id: UserId, key: SettingName, conn: Conn | None = None) -> None:
    """Delete one of the user's settings; NotFoundError if it was not set."""
    if await queries.delete_setting(await db(conn), user_id=user_id, key=key) is None:
        raise NotFoundError("no such setting")


@boundary
async def max_messages_per_day(*, user_id: UserId, conn: Conn | None = None) -> int:
    """The user's daily limit of tasks + user messages (NotFoundError: no such user)."""
    return (await check_rate_limit(user_id=user_id, conn=conn)).total
