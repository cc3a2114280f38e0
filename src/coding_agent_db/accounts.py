"""Accounts: OAuth accounts (GitHub) linked to a user besides their sign-in."""

from __future__ import annotations

from coding_agent_db.crypto import (
    SecretContext,
    decrypt,
    decrypt_optional,
    encrypt,
    encrypt_optional,
)
from coding_agent_db.errors import InvalidTransitionError, NotFoundError, user_must_exist
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    Account,
    AccountProvider,
    NewAccount,
    OAuthTokens,
    from_row,
    validated,
)
from coding_agent_db.pool import Conn, db
from coding_agent_db.sql import queries

__all__ = ["get_account", "get_account_tokens", "link_account", "unlink_account"]


def token_context(user_id: str, provider: str, column: str) -> SecretContext:
    """Where a linked account's OAuth token is stored (bound into its ciphertext)."""
    return SecretContext("accounts", column, user_id, provider)


async def link_account(*, user_id: str, account: NewAccount, conn: Conn | None = None) -> Account:
    """Link an account to the user; relinking the provider replaces the link and its tokens."""
    account = validated(account)
    with user_must_exist():
        row = await queries.upsert_account(
            await db(conn),
            user_id=user_id,
            id=new_id(),
            provider=account.provider,
            external_user_id=account.external_user_id,
            access_token=encrypt(
                account.access_token, token_context(user_id, account.provider, "access_token")
            ),
            refresh_token=encrypt_optional(
                account.refresh_token, token_context(user_id, account.provider, "refresh_token")
            ),
            expires_at=account.expires_at,
            scope=account.scope,
            username=account.username,
        )
    return from_row(row, Account)


async def get_account(
    *, user_id: str, provider: AccountProvider = "github", conn: Conn | None = None
) -> Account | None:
    """The user's linked account of ``provider``, or None."""
    row = await queries.get_account(await db(conn), user_id=user_id, provider=provider)
    return None if row is None else from_row(row, Account)


async def get_account_tokens(
    *, user_id: str, provider: AccountProvider = "github", conn: Conn | None = None
) -> OAuthTokens | None:
    """The decrypted OAuth tokens of the user's linked account, or None.

    Raises DecryptionError if a stored token cannot be trusted.
    """
    row = await queries.get_account_tokens(await db(conn), user_id=user_id, provider=provider)
    if row is None:
        return None
    return OAuthTokens(
        access_token=decrypt(row["access_token"], token_context(user_id, provider, "access_token")),
        refresh_token=decrypt_optional(
            row["refresh_token"], token_context(user_id, provider, "refresh_token")
        ),
        scope=row["scope"],
        expires_at=row["expires_at"],
    )


async def unlink_account(
    *, user_id: str, provider: AccountProvider = "github", conn: Conn | None = None
) -> None:
    """Remove the user's linked account of ``provider``.

    Refused (InvalidTransitionError) when the user signs in with that
    provider: it is their primary sign-in, as the app's disconnect route
    says. NotFoundError if there is no such link.
    """
    database = await db(conn)
    if await queries.delete_account(database, user_id=user_id, provider=provider) is None:
        if await queries.get_account(database, user_id=user_id, provider=provider) is not None:
            raise InvalidTransitionError(
                f"cannot disconnect {provider}: it is the user's primary sign-in"
            )
        raise NotFoundError(f"no linked {provider} account")
