"""Connectors: users' MCP servers, local (a command) or remote (a URL), secrets encrypted."""

from __future__ import annotations

from typing import Any

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from tests.conftest import checks

ENV_SECRET = "tok-live-0123456789abcdef"
CLIENT_SECRET = "oauth-client-secret-0123456789"


def local(**fields: Any) -> cadb.NewConnector:
    values: dict[str, Any] = {
        "name": "filesystem",
        "type": "local",
        "command": "npx -y @modelcontextprotocol/server-filesystem /workspace",
        "env": {"API_TOKEN": ENV_SECRET, "LOG_LEVEL": "debug"},
    }
    return cadb.NewConnector(**{**values, **fields})


def remote(**fields: Any) -> cadb.NewConnector:
    values: dict[str, Any] = {
        "name": "linear",
        "description": "Linear issues",
        "type": "remote",
        "base_url": "https://mcp.linear.app/sse",
        "oauth_client_id": "client-123",
        "oauth_client_secret": CLIENT_SECRET,
    }
    return cadb.NewConnector(**{**values, **fields})


def oauth() -> dict[str, str]:
    return {"oauth_client_id": "client-123", "oauth_client_secret": CLIENT_SECRET}


async def launch(user_id: str, connector_id: str, conn: cadb.Connection) -> cadb.ConnectorLaunch:
    found = await cadb.get_connector_launch(user_id=user_id, connector_id=connector_id, conn=conn)
    assert found is not None
    return found


async def test_create_local_connector_shows_masked_env(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=local(), conn=conn)

    assert (connector.user_id, connector.name, connector.type) == (user.id, "filesystem", "local")
    assert connector.command == "npx -y @modelcontextprotocol/server-filesystem /workspace"
    assert connector.base_url is None
    assert connector.status == "connected"  # the app creates connectors connected
    assert connector.unreadable is False
    assert set(connector.env) == {"API_TOKEN", "LOG_LEVEL"}
    assert ENV_SECRET not in connector.env["API_TOKEN"]
    assert connector.env["API_TOKEN"] != ENV_SECRET
    assert connector.env["LOG_LEVEL"] != "debug"
    assert await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn) == (
        connector
    )


async def test_create_remote_connector_with_an_oauth_client(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)

    assert (connector.type, connector.base_url, connector.command) == (
        "remote",
        "https://mcp.linear.app/sse",
        None,
    )
    assert connector.description == "Linear issues"
    assert connector.oauth_client_id == "client-123"
    assert connector.has_oauth_client_secret is True
    assert connector.env == {}
    assert CLIENT_SECRET not in repr(connector)


async def test_connector_secrets_are_encrypted_at_rest(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(
        user_id=user.id,
        connector=local(type="remote", base_url="https://mcp.example.com", **oauth()),
        conn=conn,
    )
    raw = await checks.get_raw_connector_secrets(conn, connector_id=connector.id)
    assert raw["env"] is not None
    assert raw["oauth_client_secret"] is not None
    row_text = await checks.get_raw_connector_text(conn, connector_id=connector.id)
    for plaintext in (ENV_SECRET, CLIENT_SECRET, "API_TOKEN", "LOG_LEVEL", "debug"):
        assert plaintext not in row_text


async def test_get_connector_launch_returns_the_plaintext_secrets(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(
        user_id=user.id,
        connector=local(type="remote", base_url="https://mcp.example.com", **oauth()),
        conn=conn,
    )
    found = await launch(user.id, connector.id, conn)
    assert found.env == {"API_TOKEN": ENV_SECRET, "LOG_LEVEL": "debug"}
    assert found.oauth_client_secret == CLIENT_SECRET
    assert (found.id, found.name, found.type, found.base_url, found.oauth_client_id) == (
        connector.id,
        "filesystem",
        "remote",
        "https://mcp.example.com",
        "client-123",
    )
    assert ENV_SECRET not in repr(found)
    assert CLIENT_SECRET not in repr(found)


async def test_a_connector_without_env_launches_with_an_empty_env(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)
    found = await launch(user.id, connector.id, conn)
    assert found.env == {}
    assert found.command is None


async def test_list_connectors_shows_the_users_connectors_by_name_masked(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    zed = await cadb.create_connector(user_id=user.id, connector=local(name="zed"), conn=conn)
    alpha = await cadb.create_connector(user_id=user.id, connector=remote(name="alpha"), conn=conn)
    await cadb.create_connector(user_id=other_user.id, connector=remote(), conn=conn)

    listed = await cadb.list_connectors(user_id=user.id, conn=conn)

    assert [connector.id for connector in listed] == [alpha.id, zed.id]
    assert all(ENV_SECRET not in value for value in listed[1].env.values())
    assert listed == [alpha, zed]
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.list_connectors(user_id=user.id, limit=0, conn=conn)
    assert caught.value.field == "limit"


async def test_update_connector_replaces_the_definition(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=local(), conn=conn)

    updated = await cadb.update_connector(
        user_id=user.id,
        connector_id=connector.id,
        connector=remote(name="renamed", env={"NEW_VAR": "new-value-0123456789"}),
        conn=conn,
    )

    assert (updated.id, updated.name, updated.type, updated.base_url, updated.command) == (
        connector.id,
        "renamed",
        "remote",
        "https://mcp.linear.app/sse",
        None,
    )
    assert updated.updated_at > connector.updated_at
    assert await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn) == (
        updated
    )
    found = await launch(user.id, connector.id, conn)
    assert found.env == {"NEW_VAR": "new-value-0123456789"}
    assert found.oauth_client_secret == CLIENT_SECRET


async def test_update_connector_with_env_none_keeps_the_stored_env(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=local(), conn=conn)
    await cadb.update_connector(
        user_id=user.id,
        connector_id=connector.id,
        connector=local(name="kept", env=None),
        conn=conn,
    )
    found = await launch(user.id, connector.id, conn)
    assert found.name == "kept"
    assert found.env == {"API_TOKEN": ENV_SECRET, "LOG_LEVEL": "debug"}


async def test_update_connector_with_an_empty_env_clears_it(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=local(), conn=conn)
    updated = await cadb.update_connector(
        user_id=user.id, connector_id=connector.id, connector=local(env={}), conn=conn
    )
    assert updated.env == {}
    assert (await launch(user.id, connector.id, conn)).env == {}


async def test_update_connector_with_no_oauth_secret_keeps_the_stored_one(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)
    await cadb.update_connector(
        user_id=user.id,
        connector_id=connector.id,
        connector=remote(oauth_client_secret=None),
        conn=conn,
    )
    assert (await launch(user.id, connector.id, conn)).oauth_client_secret == CLIENT_SECRET


async def test_set_connector_status_connects_and_disconnects(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)

    await cadb.set_connector_status(
        user_id=user.id, connector_id=connector.id, status="connected", conn=conn
    )
    connected = await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn)
    assert connected is not None
    assert connected.status == "connected"

    await cadb.set_connector_status(
        user_id=user.id, connector_id=connector.id, status="disconnected", conn=conn
    )
    disconnected = await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn)
    assert disconnected is not None
    assert disconnected.status == "disconnected"


async def test_set_connector_status_refuses_an_unknown_status(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.set_connector_status(
            user_id=user.id,
            connector_id=connector.id,
            status="broken",  # type: ignore[arg-type]
            conn=conn,
        )
    assert caught.value.field == "status"
    assert await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn) == (
        connector
    )


async def test_delete_connector_removes_it(conn: cadb.Connection, user: cadb.User) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=remote(), conn=conn)
    await cadb.delete_connector(user_id=user.id, connector_id=connector.id, conn=conn)
    assert await cadb.get_connector(user_id=user.id, connector_id=connector.id, conn=conn) is None
    assert await cadb.list_connectors(user_id=user.id, conn=conn) == []
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_connector(user_id=user.id, connector_id=connector.id, conn=conn)


async def test_a_local_connector_without_a_command_is_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_connector(
            user_id=user.id,
            connector=local(command=None, base_url="https://mcp.example.com"),
            conn=conn,
        )
    assert caught.value.field == "command"
    assert await cadb.list_connectors(user_id=user.id, conn=conn) == []


async def test_a_remote_connector_without_a_base_url_is_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_connector(
            user_id=user.id, connector=remote(base_url=None, command="npx server"), conn=conn
        )
    assert caught.value.field == "base_url"
    assert await cadb.list_connectors(user_id=user.id, conn=conn) == []


async def test_an_update_that_drops_the_target_is_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    connector = await cadb.create_connector(user_id=user.id, connector=local(), conn=conn)
    before = await checks.get_raw_connector_text(conn, connector_id=connector.id)
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_connector(
            user_id=user.id, connector_id=connector.id, connector=remote(base_url=None), conn=conn
        )
    assert caught.value.field == "base_url"
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.update_connector(
            user_id=user.id, connector_id=connector.id, connector=local(command=None), conn=conn
        )
    assert caught.value.field == "command"
    assert await checks.get_raw_connector_text(conn, connector_id=connector.id) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"base_url": "mcp.example.com"}, "base_url"),
        ({"status": "broken"}, "status"),
        ({"type": "stdio"}, "type"),
    ],
)
async def test_create_connector_refuses_invalid_fields_naming_them(
    conn: cadb.Connection, user: cadb.User, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_connector(user_id=user.id, connector=remote(**fields), conn=conn)
    assert caught.value.field.startswith(field)


async def test_an_invalid_env_variable_name_is_refused_naming_env(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.create_connector(
            user_id=user.id, connector=local(env={"1BAD NAME": "value"}), conn=conn
        )
    assert caught.value.field.startswith("env")
    assert await cadb.list_connectors(user_id=user.id, conn=conn) == []


async def test_create_connector_for_an_unknown_user_raises_not_found(
    conn: cadb.Connection,
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.create_connector(user_id=new_id(), connector=remote(), conn=conn)


async def test_missing_connector_ids_behave_as_missing(
    conn: cadb.Connection, user: cadb.User
) -> None:
    missing = new_id()
    assert await cadb.get_connector(user_id=user.id, connector_id=missing, conn=conn) is None
    assert await cadb.get_connector_launch(user_id=user.id, connector_id=missing, conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.update_connector(
            user_id=user.id, connector_id=missing, connector=remote(), conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.set_connector_status(
            user_id=user.id, connector_id=missing, status="connected", conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_connector(user_id=user.id, connector_id=missing, conn=conn)
