"""GitHub: the token an agent uses, and connecting a GitHub account (with the app's merge).

``get_github_token`` is the app's ``getGitHubTokenByUserId``: the linked
GitHub account's token, else the token of a GitHub sign-in, else a ``github``
personal access token among the user's keys; one statement, and it says which.

``connect_github_account`` is the connect flow of the app's GitHub OAuth
callback. When the GitHub account is already linked to another user, that
user is merged into the connecting one, in one transaction: their tasks (with
their messages), MCP servers, keys and the GitHub link move over, and the old
user is deleted (with their settings and API tokens, as in the app). Secrets
are bound to their owner (see ``crypto``), so moved secrets are re-encrypted
for the new owner on the way.
"""

from __future__ import annotations

import logging

from coding_agent_db.accounts import link_account
from coding_agent_db.accounts import token_context as account_context
from coding_agent_db.boundary import boundary
from coding_agent_db.connectors import secret_context as connector_context
from coding_agent_db.crypto import SecretContext, decrypt, encrypt, encrypt_optional
from coding_agent_db.errors import ConflictError, DecryptionError, NotFoundError
from coding_agent_db.keys import value_context as key_context
from coding_agent_db.models import (
    Account,
    GitHubConnection,
    GitHubToken,
    NewAccount,
    UserId,
    from_row,
)
from coding_agent_db.pool import Conn, Connection, db, transaction
from coding_agent_db.sql import queries
from coding_agent_db.users import token_context as user_context

__all__ = ["connect_github_account", "get_github_token"]

logger = logging.getLogger(__name__)


@boundary
async def get_github_token(*, user_id: UserId, conn: Conn | None = None) -> GitHubToken | None:
    """The GitHub token an agent should use for the user, and its source; None if they have none.

    In the app's order: the linked GitHub account (``account``), else their
    GitHub sign-in (``user``), else a ``github`` key (``key``, a personal
    access token). Raises DecryptionError if that token cannot be trusted
    (the app returns null then; a caller may fall back by itself).
    """
    row = await queries.get_github_token(await db(conn), user_id=user_id)
    if row is None:
        return None
    source = row["source"]
    context = {
        "account": account_context(user_id, "github", "access_token"),
        "user": user_context(user_id, "access_token"),
        "key": key_context(user_id, "github"),
    }[source]
    return GitHubToken(token=decrypt(row["token"], context), source=source)


def _rebound(stored: str | None, old: SecretContext, new: SecretContext, where: str) -> str | None:
    """``stored`` re-encrypted for its new owner; kept as it is if it cannot be decrypted."""
    if stored is None:
        return None
    try:
        return encrypt(decrypt(stored, old), new)
    except DecryptionError:
        # Unreadable before the merge and after it; never dropped.
        logger.warning("merge: %s cannot be decrypted and is moved as it is", where)
        return stored


async def _move_keys(tx: Connection, old_user_id: str, user_id: str) -> None:
    rows = [
        row async for row in queries.list_movable_keys(tx, user_id=old_user_id, new_user_id=user_id)
    ]
    await queries.move_keys(
        tx,
        user_id=old_user_id,
        new_user_id=user_id,
        providers=[row["provider"] for row in rows],
        key_values=[
            _rebound(
                row["value"],
                key_context(old_user_id, row["provider"]),
                key_context(user_id, row["provider"]),
                f"keys.value:{row['id']}",
            )
            for row in rows
        ],
    )


async def _move_connectors(tx: Connection, old_user_id: str, user_id: str) -> None:
    rows = [row async for row in queries.list_movable_connectors(tx, user_id=old_user_id)]
    secrets: dict[str, list[str | None]] = {"oauth_client_secret": [], "env": []}
    for row in rows:
        for column, values in secrets.items():
            values.append(
                _rebound(
                    row[column],
                    connector_context(old_user_id, row["id"], column),
                    connector_context(user_id, row["id"], column),
                    f"connectors.{column}:{row['id']}",
                )
            )
    await queries.move_connectors(
        tx,
        user_id=old_user_id,
        new_user_id=user_id,
        ids=[row["id"] for row in rows],
        oauth_client_secrets=secrets["oauth_client_secret"],
        envs=secrets["env"],
    )


@boundary
async def connect_github_account(
    *, user_id: UserId, account: NewAccount, conn: Conn | None = None
) -> GitHubConnection:
    """Connect a GitHub account to the user, as the app's OAuth callback does.

    - Not linked to anyone, or already the user's: linked like
      ``link_account`` (replacing a previous GitHub link of the user).
    - Linked to another user: that user is merged into this one, in one
      transaction. Their tasks and messages, MCP servers, keys and the
      GitHub link move to this user (the link gets the new tokens) and they
      are deleted, with their settings and API tokens. On a collision the
      connecting user's own rows win: a key of a provider they already have
      stays theirs (the merged user's is dropped); a GitHub link they had is
      replaced by the one being connected. ``merged_user_id`` names the
      deleted user.

    Two users connecting the same account at once: exactly one merges; the
    other raises ConflictError and nothing of theirs changes (they may retry,
    which merges the winner into them, as the app would). NotFoundError if
    there is no such user.
    """
    async with transaction(conn) as tx:
        owner = await queries.get_account_identity(tx, external_user_id=account.external_user_id)
        if owner is None or owner["user_id"] == user_id:
            linked = await link_account(user_id=user_id, account=account, conn=tx)
            return GitHubConnection(account=linked, merged_user_id=None)

        old_user_id: str = owner["user_id"]
        # A merge that won meanwhile moved the link: found no more here, or (on a
        # schema partitioned by user) moved to another partition, which raises
        # DatabaseConflictError, a ConflictError too.
        account_id = await queries.lock_github_account(
            tx, user_id=old_user_id, external_user_id=account.external_user_id
        )
        if (
            account_id is None
            or await queries.lock_user_for_delete(tx, user_id=old_user_id) is None
        ):
            raise ConflictError("this GitHub account was connected by someone else meanwhile")
        if await queries.lock_user(tx, user_id=user_id) is None:
            raise NotFoundError("no such user")

        await _move_keys(tx, old_user_id, user_id)
        await _move_connectors(tx, old_user_id, user_id)
        await queries.move_tasks(tx, user_id=old_user_id, new_user_id=user_id)
        await queries.delete_superseded_account(tx, user_id=user_id, provider="github")
        moved = await queries.move_account(
            tx,
            user_id=old_user_id,
            account_id=account_id,
            new_user_id=user_id,
            access_token=encrypt(
                account.access_token, account_context(user_id, "github", "access_token")
            ),
            refresh_token=encrypt_optional(
                account.refresh_token, account_context(user_id, "github", "refresh_token")
            ),
            expires_at=account.expires_at,
            scope=account.scope,
            username=account.username,
        )
        await queries.delete_user(tx, user_id=old_user_id)
    return GitHubConnection(account=from_row(moved, Account), merged_user_id=old_user_id)
