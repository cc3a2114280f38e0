"""Key rotation: rewrite every encrypted value under the current key.

``rotate_keys()`` walks the tables holding secrets in id order, in batches.
Each batch is one transaction: lock the rows, decrypt each value with the
keyring (current or previous key, new or legacy format), re-encrypt the ones
not yet in the configured format under the current key, write them back.
Killed halfway, the database holds old and new values side by side, and both
decrypt while the old key stays in ``ENCRYPTION_KEYS_PREVIOUS``; running it
again skips what is done. Once it reports nothing unreadable, the old key can
be dropped. A value several keys open (legacy format) is reported unreadable,
never re-encrypted as a guess.

Values already under the current key are skipped unopened, unless
``verify=True`` (``rotate-keys --verify``): then they are decrypted too, and a
damaged one is reported. ``count_legacy_secrets()`` counts the values still in
the legacy format; at 0, ``ENCRYPTION_LEGACY_READS=off`` is safe.

A maintenance job across all users, not a request handler:
``python -m coding_agent_db rotate-keys`` (``make rotate-keys``) runs it with
progress, and exits 1 if some value could not be decrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from msgspec import Meta

from coding_agent_db.accounts import token_context as account_context
from coding_agent_db.boundary import boundary
from coding_agent_db.connectors import secret_context as connector_context
from coding_agent_db.crypto import Keyring, SecretContext, keyring
from coding_agent_db.errors import DecryptionError
from coding_agent_db.keys import value_context as key_context
from coding_agent_db.models import Model
from coding_agent_db.pool import Conn, db, transaction
from coding_agent_db.sql import queries
from coding_agent_db.users import token_context as user_context

__all__ = ["RotationReport", "count_legacy_secrets", "rotate_keys"]

ProgressCallback = Callable[[int, int], None]
"""Called after every batch with (rows done, rows in all)."""


class RotationReport(Model, frozen=True, kw_only=True):
    """What a rotation did: rows visited, rows rewritten, values it could not decrypt."""

    rows: int
    rewritten: int
    unreadable: tuple[str, ...]
    """``table.column:id`` of every value that failed to decrypt and was left as it was."""
    legacy_remaining: int = 0
    """Values still in the legacy format afterwards; at 0, ENCRYPTION_LEGACY_READS=off is safe."""


class _Table(NamedTuple):
    """How to rotate one table: its queries and where each secret column belongs."""

    name: str
    columns: tuple[str, ...]
    count_query: str
    list_query: str
    update_query: str
    update_params: tuple[str, ...]
    context: Callable[[Any, str], SecretContext]
    legacy_count_query: str
    by_user: bool = True
    """Rows are keyed (user_id, id) and listed in that order; users by id alone."""


_TABLES = (
    _Table(
        "users",
        ("access_token", "refresh_token"),
        "count_user_secrets",
        "list_user_secrets",
        "update_user_secrets",
        ("access_tokens", "refresh_tokens"),
        lambda row, column: user_context(row["id"], column),
        "count_legacy_user_secrets",
        by_user=False,
    ),
    _Table(
        "accounts",
        ("access_token", "refresh_token"),
        "count_account_secrets",
        "list_account_secrets",
        "update_account_secrets",
        ("access_tokens", "refresh_tokens"),
        lambda row, column: account_context(row["user_id"], row["provider"], column),
        "count_legacy_account_secrets",
    ),
    _Table(
        "keys",
        ("value",),
        "count_key_secrets",
        "list_key_secrets",
        "update_key_secrets",
        ("key_values",),
        lambda row, column: key_context(row["user_id"], row["provider"]),
        "count_legacy_key_secrets",
    ),
    _Table(
        "connectors",
        ("oauth_client_secret", "env"),
        "count_connector_secrets",
        "list_connector_secrets",
        "update_connector_secrets",
        ("oauth_client_secrets", "envs"),
        lambda row, column: connector_context(row["user_id"], row["id"], column),
        "count_legacy_connector_secrets",
    ),
)


def _rotated(stored: str | None, context: SecretContext, ring: Keyring, verify: bool) -> str | None:
    """``stored`` re-encrypted under the current key, or None if it needs no rewrite.

    DecryptionError if it cannot be trusted (checked for current values only with ``verify``).
    """
    if stored is None:
        return None
    if ring.is_current(stored):
        if verify:
            ring.decrypt(stored, context)
        return None
    return ring.encrypt(ring.decrypt(stored, context), context)


def first_position(table: _Table) -> dict[str, str]:
    """The keyset position before a table's first row."""
    return {"after_user_id": "", "after_id": ""} if table.by_user else {"after_id": ""}


def position_after(table: _Table, row: Any) -> dict[str, str]:
    """The keyset position after ``row``."""
    if table.by_user:
        return {"after_user_id": row["user_id"], "after_id": row["id"]}
    return {"after_id": row["id"]}


@boundary
async def count_legacy_secrets(*, conn: Conn | None = None) -> int:
    """How many stored secrets are still in the legacy (unauthenticated) format, across all users.

    At 0 (after ``rotate_keys``), ``ENCRYPTION_LEGACY_READS=off`` is safe.
    A maintenance call, not a request handler.
    """
    database = await db(conn)
    total = 0
    for table in _TABLES:
        total += await getattr(queries, table.legacy_count_query)(database)
    return total


@boundary
async def rotate_keys(
    *,
    batch_size: Annotated[int, Meta(ge=1, le=10_000)] = 500,
    on_progress: ProgressCallback | None = None,
    verify: bool = False,
    conn: Conn | None = None,
) -> RotationReport:
    """Rewrite every encrypted value under ``ENCRYPTION_KEY``; resumable and idempotent.

    ``verify``: also decrypt the values already under the current key, and
    report the damaged ones as unreadable.
    """
    ring = keyring()
    database = await db(conn)
    total = 0
    for table in _TABLES:
        total += await getattr(queries, table.count_query)(database)
    done = rewritten = 0
    unreadable: list[str] = []
    for table in _TABLES:
        position = first_position(table)
        while True:
            async with transaction(conn) as tx:
                rows = [
                    row
                    async for row in getattr(queries, table.list_query)(
                        tx, batch_size=batch_size, **position
                    )
                ]
                if not rows:
                    break
                changed: list[Any] = []
                columns: list[list[str | None]] = [[] for _ in table.columns]
                for row in rows:
                    new_values = []
                    for column in table.columns:
                        try:
                            new_values.append(
                                _rotated(row[column], table.context(row, column), ring, verify)
                            )
                        except DecryptionError:
                            unreadable.append(f"{table.name}.{column}:{row['id']}")
                            new_values.append(None)
                    if any(value is not None for value in new_values):
                        changed.append(row)
                        for values, column, new in zip(
                            columns, table.columns, new_values, strict=True
                        ):
                            values.append(row[column] if new is None else new)
                if changed:
                    params: dict[str, Any] = dict(zip(table.update_params, columns, strict=True))
                    params["ids"] = [row["id"] for row in changed]
                    if table.by_user:
                        params["user_ids"] = [row["user_id"] for row in changed]
                    rewritten += await getattr(queries, table.update_query)(tx, **params)
            position = position_after(table, rows[-1])
            done += len(rows)
            if on_progress is not None:
                on_progress(done, max(total, done))
    return RotationReport(
        rows=done,
        rewritten=rewritten,
        unreadable=tuple(unreadable),
        legacy_remaining=await count_legacy_secrets(conn=conn),
    )
