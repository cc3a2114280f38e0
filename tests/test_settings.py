"""Settings: per-user overrides, and the typed maxMessagesPerDay getter."""

from __future__ import annotations

import pytest

import coding_agent_db as cadb
from coding_agent_db.rate_limit import DEFAULT_MAX_MESSAGES_PER_DAY


async def test_set_get_list_and_delete_a_setting(conn: cadb.Connection, user: cadb.User) -> None:
    first = await cadb.set_setting(user_id=user.id, key="theme", value="dark", conn=conn)
    second = await cadb.set_setting(user_id=user.id, key="theme", value="light", conn=conn)
    assert second.id == first.id
    assert second.value == "light"
    assert second.updated_at >= first.updated_at
    await cadb.set_setting(user_id=user.id, key="editor", value="vim", conn=conn)

    assert await cadb.get_setting(user_id=user.id, key="theme", conn=conn) == second
    assert [s.key for s in await cadb.list_settings(user_id=user.id, conn=conn)] == [
        "editor",
        "theme",
    ]

    await cadb.delete_setting(user_id=user.id, key="theme", conn=conn)
    assert await cadb.get_setting(user_id=user.id, key="theme", conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_setting(user_id=user.id, key="theme", conn=conn)


async def test_another_users_settings_are_invisible_and_untouchable(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    await cadb.set_setting(user_id=user.id, key="theme", value="dark", conn=conn)
    assert await cadb.get_setting(user_id=other_user.id, key="theme", conn=conn) is None
    assert await cadb.list_settings(user_id=other_user.id, conn=conn) == []
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_setting(user_id=other_user.id, key="theme", conn=conn)
    assert (await cadb.get_setting(user_id=user.id, key="theme", conn=conn)) is not None


async def test_max_messages_per_day_prefers_the_setting_then_env_then_default(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = cadb.max_messages_per_day
    assert await limit(user_id=user.id, conn=conn) == DEFAULT_MAX_MESSAGES_PER_DAY
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "42")
    assert await limit(user_id=user.id, conn=conn) == 42
    await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value="7", conn=conn)
    assert await limit(user_id=user.id, conn=conn) == 7


async def test_a_non_numeric_limit_setting_is_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.set_setting(user_id=user.id, key="maxMessagesPerDay", value="lots", conn=conn)
    assert raised.value.field == "value"
    assert await cadb.get_setting(user_id=user.id, key="maxMessagesPerDay", conn=conn) is None


async def test_a_malformed_env_limit_raises_configuration_error_naming_it(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_MESSAGES_PER_DAY", "many")
    with pytest.raises(cadb.ConfigurationError, match="MAX_MESSAGES_PER_DAY"):
        await cadb.max_messages_per_day(user_id=user.id, conn=conn)


@pytest.mark.parametrize(
    ("key", "value", "field"), [("", "x", "key"), ("has space", "x", "key"), ("k", "", "value")]
)
async def test_invalid_settings_are_refused_naming_the_field(
    conn: cadb.Connection, user: cadb.User, key: str, value: str, field: str
) -> None:
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.set_setting(user_id=user.id, key=key, value=value, conn=conn)
    assert raised.value.field == field


async def test_setting_for_an_unknown_user_raises_not_found(conn: cadb.Connection) -> None:
    with pytest.raises(cadb.NotFoundError, match="no such user"):
        await cadb.set_setting(user_id="nobody", key="theme", value="dark", conn=conn)
