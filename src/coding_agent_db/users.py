"""Users: sign-in, lookup, deletion, and their OAuth tokens."""

from __future__ import annotations

from typing import Any

from coding_agent_db.boundary import boundary
from coding_agent_db.crypto import (
    SecretContext,
    decrypt,
    decrypt_optional,
    encrypt,
    encrypt_optional,
)
from coding_agent_db.errors import NotFoundError
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    AuthProvider,
    LookupText,
    NewUser,
    OAuthTokens,
    User,
    UserId,
    from_row,
)
from coding_agent_db.pool import Conn, db, transaction
from coding_agent_db.sql import queries

__all__ = [
    "delete_user",
    "get_user",
    "get_user_by_github_account",
    "get_user_by_provider",
    "get_user_tokens",
    "upsert_user",
]


def token_context(user_id: str, column: str) -> SecretContext:
    """Where a user's OAuth token is stored (bound into its ciphertext)."""
    return SecretContext("users", column, user_id)


def _stored_profile(identity: NewUser, user_id: str) -> dict[str, Any]:
    """The columns a sign-in writes, tokens encrypted for ``user_id``."""
    return {
        "access_token": encrypt(identity.access_token, token_context(user_id, "access_token")),
        "refresh_token": encrypt_optional(
            identity.refresh_token, token_context(user_id, "refresh_token")
        ),
        "scope": identity.scope,
        "username": identity.username,
        "email": identity.email,
        "name": identity.name,
        "avatar_url": identity.avatar_url,
    }


@boundary
async def upsert_user(identity: NewUser, *, conn: Conn | None = None) -> User:
    """Sign a user in; an authentication entry point (no user_id yet).

    1. A known identity gets its access token, username and last_login_at
       updated, and whatever else the provider sent: a field left None
       (refresh token, scope, email, name, avatar) keeps its stored value,
       as drizzle skips undefined fields in the app.
    2. A GitHub identity linked to a user through ``accounts`` signs that user
       in instead of creating a duplicate; only last_login_at is recorded, the
       link keeps its tokens, expiry and scope (as in the app).
    3. Otherwise a user is created. Concurrent first sign-ins of one identity
       create exactly one user: the insert that loses the race does nothing,
       and the lookup that follows finds the winner.
    """
    async with transaction(conn) as tx:
        while True:
            known = await queries.get_user_identity(
                tx, provider=identity.provider, external_id=identity.external_id
            )
            if known is not None:
                user_id = known["user_id"]
                updated = await queries.update_user_sign_in(
                    tx, user_id=user_id, **_stored_profile(identity, user_id)
                )
                return from_row(updated, User)

            if identity.provider == "github":
                linked = await queries.get_account_identity(
                    tx, external_user_id=identity.external_id
                )
                if linked is not None:
                    # Like the app: the login is recorded, the link (and its
                    # refresh token, expiry and scope) is left as it is.
                    return from_row(
                        await queries.update_user_last_login(tx, user_id=linked["user_id"]), User
                    )

            user_id = new_id()
            created = await queries.create_user(
                tx,
                user_id=user_id,
                provider=identity.provider,
                external_id=identity.external_id,
                **_stored_profile(identity, user_id),
            )
            if created is not None:
                return from_row(created, User)
            # A concurrent sign-in created this identity first; its insert
            # into user_identities waited for that to commit, so the lookup
            # above now finds it.


@boundary
async def get_user(*, user_id: UserId, conn: Conn | None = None) -> User | None:
    """The user, or None."""
    row = await queries.get_user(await db(conn), user_id=user_id)
    return None if row is None else from_row(row, User)


@boundary
async def get_user_by_provider(
    *, provider: AuthProvider, external_id: LookupText, conn: Conn | None = None
) -> User | None:
    """The user who signs in with this provider identity; an authentication entry point.

    Two reads: the identity (``user_identities``), then the user.
    """
    target = await db(conn)
    known = await queries.get_user_identity(target, provider=provider, external_id=external_id)
    row = None if known is None else await queries.get_user(target, user_id=known["user_id"])
    return None if row is None else from_row(row, User)


@boundary
async def get_user_by_github_account(
    *, external_user_id: LookupText, conn: Conn | None = None
) -> User | None:
    """The user this GitHub account is linked to (oldest link first); an authentication entry point.

    Two reads: the account's identity (``account_identities``), then the user.
    """
    target = await db(conn)
    linked = await queries.get_account_identity(target, external_user_id=external_user_id)
    row = None if linked is None else await queries.get_user(target, user_id=linked["user_id"])
    return None if row is None else from_row(row, User)


@boundary
async def get_user_tokens(*, user_id: UserId, conn: Conn | None = None) -> OAuthTokens | None:
    """The user's decrypted OAuth tokens of their sign-in provider, or None.

    Raises DecryptionError if a stored token cannot be trusted.
    """
    row = await queries.get_user_tokens(await db(conn), user_id=user_id)
    if row is None:
        return None
    return OAuthTokens(
        access_token=decrypt(row["access_token"], token_context(user_id, "access_token")),
        refresh_token=decrypt_optional(
            row["refresh_token"], token_context(user_id, "refresh_token")
        ),
        scope=row["scope"],
    )


@boundary
async def delete_user(*, user_id: UserId, conn: Conn | None = None) -> None:
    """Delete the user and everything they own; NotFoundError if there is no such user."""
    if await queries.delete_user(await db(conn), user_id=user_id) is None:
        raise NotFoundError("no such user")
