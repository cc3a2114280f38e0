"""API keys: stored per provider, listed masked, revealed for agent runs."""

from __future__ import annotations

import pytest

import coding_agent_db as cadb

ANTHROPIC = "sk-ant-api03-0123456789abcdefghijklmnopqrstuvwxyz-a1b2"


async def test_set_list_reveal_and_delete_keys(conn: cadb.Connection, user: cadb.User) -> None:
    await cadb.set_key(
        user_id=user.id, provider="anthropic", value="sk-ant-old-0000000000", conn=conn
    )
    stored = await cadb.set_key(user_id=user.id, provider="anthropic", value=ANTHROPIC, conn=conn)
    await cadb.set_key(
        user_id=user.id,
        provider="openai",
        value="sk-proj-abcdefghijklmnopqrstuvwxyz0123456789-1234",
        conn=conn,
    )

    listed = await cadb.list_keys(user_id=user.id, conn=conn)
    assert [(k.provider, k.preview, k.unreadable) for k in listed] == [
        ("anthropic", "sk-ant-...a1b2", False),
        ("openai", "sk-proj-...1234", False),
    ]
    assert listed[0].id == stored.id
    assert await cadb.get_key(user_id=user.id, provider="anthropic", conn=conn) == listed[0]
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == ANTHROPIC
    revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    assert revealed.values == {
        "anthropic": ANTHROPIC,
        "openai": "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789-1234",
    }
    assert revealed.unreadable == ()

    await cadb.delete_key(user_id=user.id, provider="anthropic", conn=conn)
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_key(user_id=user.id, provider="anthropic", conn=conn)


async def test_another_users_keys_are_invisible(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    await cadb.set_key(
        user_id=user.id, provider="gemini", value="AIza-secret-value-1234", conn=conn
    )
    assert await cadb.list_keys(user_id=other_user.id, conn=conn) == []
    assert await cadb.get_key(user_id=other_user.id, provider="gemini", conn=conn) is None
    assert await cadb.reveal_key(user_id=other_user.id, provider="gemini", conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_key(user_id=other_user.id, provider="gemini", conn=conn)
    assert await cadb.reveal_key(user_id=user.id, provider="gemini", conn=conn) is not None


@pytest.mark.parametrize(
    ("provider", "value", "field"), [("mistral", "k", "provider"), ("openai", "", "value")]
)
async def test_invalid_keys_are_refused_naming_the_field(
    conn: cadb.Connection, user: cadb.User, provider: str, value: str, field: str
) -> None:
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.set_key(user_id=user.id, provider=provider, value=value, conn=conn)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert await cadb.list_keys(user_id=user.id, conn=conn) == []


async def test_storing_a_key_for_an_unknown_user_raises_not_found(conn: cadb.Connection) -> None:
    with pytest.raises(cadb.NotFoundError, match="no such user"):
        await cadb.set_key(user_id="nobody", provider="openai", value="sk-x", conn=conn)
