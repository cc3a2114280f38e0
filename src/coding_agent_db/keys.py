"""Keys: users' AI-provider API keys, encrypted at rest.

Listings show masked previews; plaintext comes only from ``reveal_key`` and
``reveal_keys``, which hand keys to an agent run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from coding_agent_db.boundary import boundary
from coding_agent_db.crypto import SecretContext, decrypt, encrypt, mask
from coding_agent_db.errors import DecryptionError, NotFoundError, user_must_exist
from coding_agent_db.ids import new_id
from coding_agent_db.models import ApiKey, KeyProvider, RevealedKeys, Secret, UserId
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = ["delete_key", "get_key", "list_keys", "reveal_key", "reveal_keys", "set_key"]

log = logging.getLogger(__name__)


def value_context(user_id: str, provider: str) -> SecretContext:
    """Where a key is stored (bound into its ciphertext)."""
    return SecretContext("keys", "value", user_id, provider)


def _api_key(row: Mapping[str, Any]) -> ApiKey:
    """The listed form of a ``keys`` row: a preview, or the unreadable marker."""
    try:
        preview: str | None = mask(
            decrypt(row["value"], value_context(row["user_id"], row["provider"]))
        )
    except DecryptionError as exc:
        log.warning("key %s of user %s is unreadable: %s", row["id"], row["user_id"], exc)
        preview = None
    return ApiKey(
        id=row["id"],
        user_id=row["user_id"],
        provider=row["provider"],
        preview=preview,
        unreadable=preview is None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@boundary
async def set_key(
    *, user_id: UserId, provider: KeyProvider, value: Secret, conn: Conn | None = None
) -> ApiKey:
    """Store the user's key for ``provider``, replacing any previous one."""
    with user_must_exist():
        row = await queries.upsert_key(
            await db(conn),
            user_id=user_id,
            id=new_id(),
            provider=provider,
            value=encrypt(value, value_context(user_id, provider)),
        )
    return _api_key(row)


@boundary
async def list_keys(*, user_id: UserId, conn: Conn | None = None) -> list[ApiKey]:
    """The user's keys as masked previews, by provider; unreadable ones are marked."""
    return [_api_key(row) async for row in queries.list_keys(await db(conn), user_id=user_id)]


@boundary
async def get_key(
    *, user_id: UserId, provider: KeyProvider, conn: Conn | None = None
) -> ApiKey | None:
    """The user's key for ``provider`` as a masked preview, or None."""
    row = await queries.get_key(await db(conn), user_id=user_id, provider=provider)
    return None if row is None else _api_key(row)


@boundary
async def reveal_key(
    *, user_id: UserId, provider: KeyProvider, conn: Conn | None = None
) -> str | None:
    """The user's plaintext key for ``provider`` (for an agent run), or None.

    Raises DecryptionError if the stored value cannot be trusted.
    """
    row = await queries.get_key(await db(conn), user_id=user_id, provider=provider)
    return None if row is None else decrypt(row["value"], value_context(user_id, provider))


@boundary(missing=lambda: RevealedKeys(values={}, unreadable=()))
async def reveal_keys(*, user_id: UserId, conn: Conn | None = None) -> RevealedKeys:
    """All the user's plaintext keys (for an agent run); unreadable ones are named, not raised."""
    values: dict[KeyProvider, str] = {}
    unreadable: list[KeyProvider] = []
    async for row in queries.list_keys(await db(conn), user_id=user_id):
        provider = row["provider"]
        try:
            values[provider] = decrypt(row["value"], value_context(user_id, provider))
        except DecryptionError as exc:
            log.warning("key %s of user %s is unreadable: %s", row["id"], user_id, exc)
            unreadable.append(provider)
    return RevealedKeys(values=values, unreadable=tuple(unreadable))


@boundary
async def delete_key(*, user_id: UserId, provider: KeyProvider, conn: Conn | None = None) -> None:
    """Delete the user's key for ``provider``; NotFoundError if there is none."""
    if await queries.delete_key(await db(conn), user_id=user_id, provider=provider) is None:
        raise NotFoundError(f"no {provider} key")
