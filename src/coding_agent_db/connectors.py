"""Connectors: users' MCP servers, local (a command) or remote (a URL).

``env`` (the whole JSON object of variables) and ``oauth_client_secret`` are
encrypted at rest. Reads for a person show masked previews
(``Connector.env``); ``get_connector_launch`` decrypts them to start a server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from coding_agent_db.boundary import boundary
from coding_agent_db.crypto import (
    SecretContext,
    decrypt,
    decrypt_optional,
    encrypt,
    encrypt_optional,
    mask,
)
from coding_agent_db.errors import DecryptionError, NotFoundError, ValidationError, user_must_exist
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    Connector,
    ConnectorLaunch,
    ConnectorStatus,
    NewConnector,
    RowId,
    UserId,
)
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = [
    "create_connector",
    "delete_connector",
    "get_connector",
    "get_connector_launch",
    "list_connectors",
    "set_connector_status",
    "update_connector",
]

log = logging.getLogger(__name__)

MAX_CONNECTORS_LISTED = 500


def secret_context(user_id: str, connector_id: str, column: str) -> SecretContext:
    """Where a connector's secret is stored (bound into its ciphertext)."""
    return SecretContext("connectors", column, user_id, connector_id)


def _checked(connector: NewConnector) -> NewConnector:
    """The rules between fields (the boundary has checked each field)."""
    if connector.type == "local" and connector.command is None:
        raise ValidationError("command", "is required for a local connector")
    if connector.type == "remote" and connector.base_url is None:
        raise ValidationError("base_url", "is required for a remote connector")
    return connector


def _decrypted_env(row: Mapping[str, Any]) -> dict[str, str]:
    stored = row["env"]
    if stored is None:
        return {}
    plaintext = decrypt(stored, secret_context(row["user_id"], row["id"], "env"))
    try:
        env = msgspec.json.decode(plaintext, type=dict[str, Any])
    except msgspec.DecodeError:
        raise DecryptionError("connectors.env: decrypted value is not a JSON object") from None
    # Read tolerantly: a value the app stored as a JSON number or boolean is
    # shown as its JSON text rather than making the connector unreadable.
    return {
        name: value if isinstance(value, str) else msgspec.json.encode(value).decode()
        for name, value in env.items()
    }


def _connector(row: Mapping[str, Any]) -> Connector:
    """The shown form of a ``connectors`` row: secrets masked, unreadable ones marked."""
    try:
        env = {name: mask(value) for name, value in _decrypted_env(row).items()}
        if row["oauth_client_secret"] is not None:
            decrypt(
                row["oauth_client_secret"],
                secret_context(row["user_id"], row["id"], "oauth_client_secret"),
            )
        unreadable = False
    except DecryptionError as exc:
        log.warning("connector %s of user %s is unreadable: %s", row["id"], row["user_id"], exc)
        env, unreadable = {}, True
    return Connector(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        description=row["description"],
        type=row["type"],
        base_url=row["base_url"],
        oauth_client_id=row["oauth_client_id"],
        has_oauth_client_secret=row["oauth_client_secret"] is not None,
        command=row["command"],
        env=env,
        unreadable=unreadable,
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _stored_fields(connector: NewConnector, user_id: str, connector_id: str) -> dict[str, Any]:
    """The columns a connector writes, its secrets encrypted for its row (None: no secret)."""
    env = connector.env
    return {
        "name": connector.name,
        "description": connector.description,
        "type": connector.type,
        "base_url": connector.base_url,
        "oauth_client_id": connector.oauth_client_id,
        "oauth_client_secret": encrypt_optional(
            connector.oauth_client_secret,
            secret_context(user_id, connector_id, "oauth_client_secret"),
        ),
        "command": connector.command,
        "env": None
        if env is None
        else encrypt(
            msgspec.json.encode(env).decode(), secret_context(user_id, connector_id, "env")
        ),
        "status": connector.status,
    }


@boundary
async def create_connector(
    *, user_id: UserId, connector: NewConnector, conn: Conn | None = None
) -> Connector:
    """Create an MCP server for the user; ``env`` and the OAuth secret are stored encrypted."""
    connector = _checked(connector)
    connector_id = new_id()
    with user_must_exist():
        row = await queries.create_connector(
            await db(conn),
            user_id=user_id,
            id=connector_id,
            **_stored_fields(connector, user_id, connector_id),
        )
    return _connector(row)


@boundary
async def update_connector(
    *, user_id: UserId, connector_id: RowId, connector: NewConnector, conn: Conn | None = None
) -> Connector:
    """Replace the definition of the user's MCP server.

    The stored secrets are kept when the update leaves them out, because a
    person editing a connector only ever saw them masked: ``env=None`` keeps
    the variables (``env={}`` removes them all), ``oauth_client_secret=None``
    keeps the secret. NotFoundError if the connector is not the user's.
    """
    connector = _checked(connector)
    row = await queries.update_connector(
        await db(conn),
        user_id=user_id,
        connector_id=connector_id,
        **_stored_fields(connector, user_id, connector_id),
    )
    if row is None:
        raise NotFoundError("no such connector")
    return _connector(row)


@boundary
async def set_connector_status(
    *, user_id: UserId, connector_id: RowId, status: ConnectorStatus, conn: Conn | None = None
) -> None:
    """Mark the user's MCP server connected or disconnected."""
    updated = await queries.update_connector_status(
        await db(conn),
        user_id=user_id,
        connector_id=connector_id,
        status=status,
    )
    if updated is None:
        raise NotFoundError("no such connector")


@boundary
async def get_connector(
    *, user_id: UserId, connector_id: RowId, conn: Conn | None = None
) -> Connector | None:
    """The user's MCP server with secrets masked, or None."""
    row = await queries.get_connector(await db(conn), user_id=user_id, connector_id=connector_id)
    return None if row is None else _connector(row)


@boundary
async def list_connectors(
    *,
    user_id: UserId,
    limit: Annotated[int, Meta(ge=1, le=MAX_CONNECTORS_LISTED)] = MAX_CONNECTORS_LISTED,
    conn: Conn | None = None,
) -> list[Connector]:
    """The user's MCP servers by name, secrets masked; unreadable ones are marked."""
    return [
        _connector(row)
        async for row in queries.list_connectors(await db(conn), user_id=user_id, limit=limit)
    ]


@boundary
async def get_connector_launch(
    *, user_id: UserId, connector_id: RowId, conn: Conn | None = None
) -> ConnectorLaunch | None:
    """What starting the user's MCP server needs, secrets decrypted; None if not theirs.

    Raises DecryptionError if a stored secret cannot be trusted.
    """
    row = await queries.get_connector(await db(conn), user_id=user_id, connector_id=connector_id)
    if row is None:
        return None
    return ConnectorLaunch(
        id=row["id"],
        name=row["name"],
        type=row["type"],
        base_url=row["base_url"],
        command=row["command"],
        oauth_client_id=row["oauth_client_id"],
        oauth_client_secret=decrypt_optional(
            row["oauth_client_secret"],
            secret_context(user_id, connector_id, "oauth_client_secret"),
        ),
        env=_decrypted_env(row),
    )


@boundary
async def delete_connector(
    *, user_id: UserId, connector_id: RowId, conn: Conn | None = None
) -> None:
    """Delete the user's MCP server; NotFoundError if it is not theirs."""
    deleted = await queries.delete_connector(
        await db(conn), user_id=user_id, connector_id=connector_id
    )
    if deleted is None:
        raise NotFoundError("no such connector")
