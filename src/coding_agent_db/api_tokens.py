"""API tokens: programmatic access, shown once, checked in one statement.

Raw format: ``cadb_`` + 32 base62 characters (190 random bits) + 6 base62
characters of CRC-32 over them. Secret scanners can match the prefix and the
checksum; a typo fails the checksum and is refused without a query. Only the
SHA-256 (hex) of a raw token is stored, with its first 9 characters for display.
Raw tokens of the TypeScript app (64 hex characters) still authenticate.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from msgspec import Meta

from coding_agent_db.boundary import boundary
from coding_agent_db.errors import LimitExceededError, NotFoundError, ValidationError
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    ApiToken,
    ApiTokenCursor,
    CreatedApiToken,
    NewApiToken,
    RowId,
    Text,
    User,
    UserId,
    Within,
    convert,
    from_row,
)
from coding_agent_db.pool import Conn, db, transaction
from coding_agent_db.sql import queries

__all__ = [
    "MAX_LIVE_TOKENS",
    "authenticate_api_token",
    "create_api_token",
    "list_api_tokens",
    "purge_expired_api_tokens",
    "rename_api_token",
    "revoke_api_token",
]

MAX_LIVE_TOKENS = 20
"""Unexpired tokens a user may hold at once."""

MAX_TOKENS_LISTED = 100
MAX_PURGE_GRACE = timedelta(days=36_500)
"""The longest grace ``purge_expired_api_tokens`` takes (a century: effectively never)."""
TOKEN_PREFIX = "cadb_"  # noqa: S105 - the public prefix, not a secret
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4
"""Stored for display: the prefix and 4 random characters (24 bits), so the
stored part leaves 166 of the 190 random bits unknown."""

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_RANDOM_LENGTH = 32
_CHECKSUM_LENGTH = 6
_TOKEN = re.compile(
    rf"{TOKEN_PREFIX}(?P<body>[0-9A-Za-z]{{{_RANDOM_LENGTH}}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{_CHECKSUM_LENGTH}}})"
)
_LEGACY_TOKEN = re.compile(r"[0-9a-f]{64}")
_FIRST_PAGE = ApiTokenCursor(created_at=datetime.max.replace(tzinfo=UTC), id="")


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(_CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def _new_raw_token() -> str:
    body = "".join(secrets.choice(_BASE62) for _ in range(_RANDOM_LENGTH))
    return f"{TOKEN_PREFIX}{body}{_checksum(body)}"


def is_well_formed(raw: str) -> bool:
    """Whether ``raw`` has the shape and checksum of a token (ours or a legacy one)."""
    match = _TOKEN.fullmatch(raw)
    if match is not None:
        return secrets.compare_digest(_checksum(match["body"]), match["checksum"])
    return _LEGACY_TOKEN.fullmatch(raw) is not None


def token_hash(raw: str) -> str:
    """What is stored of a raw token: its SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


@boundary
async def create_api_token(
    *,
    user_id: UserId,
    name: Text,
    expires_at: datetime | None = None,
    conn: Conn | None = None,
) -> CreatedApiToken:
    """A new token for the user; its raw value exists only in the returned object.

    The same statement deletes the user's expired tokens, so a user who makes
    short-lived tokens holds at most ``MAX_LIVE_TOKENS`` rows after each create.
    Raises LimitExceededError when the user already holds ``MAX_LIVE_TOKENS``
    unexpired tokens (also under concurrent creates), NotFoundError if there
    is no such user.
    """
    request = convert({"name": name, "expires_at": expires_at}, NewApiToken)
    if request.expires_at is not None:
        if request.expires_at.tzinfo is None:
            raise ValidationError("expires_at", "must be timezone-aware")
        if request.expires_at <= datetime.now(UTC):
            raise ValidationError("expires_at", "must be in the future")
    raw = _new_raw_token()
    async with transaction(conn) as tx:
        if await queries.lock_user(tx, user_id=user_id) is None:
            raise NotFoundError("no such user")
        row = await queries.create_api_token(
            tx,
            user_id=user_id,
            id=new_id(),
            name=request.name,
            token_hash=token_hash(raw),
            token_prefix=raw[:DISPLAY_PREFIX_LENGTH],
            expires_at=request.expires_at,
            max_live_tokens=MAX_LIVE_TOKENS,
        )
    if row is None:
        raise LimitExceededError(
            f"at most {MAX_LIVE_TOKENS} unexpired API tokens per user; revoke one first",
            limit=MAX_LIVE_TOKENS,
        )
    return CreatedApiToken(token=from_row(row, ApiToken), raw_token=raw)


@boundary
async def list_api_tokens(
    *,
    user_id: UserId,
    limit: Annotated[int, Meta(ge=1, le=MAX_TOKENS_LISTED)] = MAX_TOKENS_LISTED,
    before: ApiTokenCursor | None = None,
    conn: Conn | None = None,
) -> list[ApiToken]:
    """The user's tokens, newest first (expired ones not yet cleaned included, hashes never).

    For the next page pass ``before=page[-1].cursor``.
    """
    cursor = before or _FIRST_PAGE
    return [
        from_row(row, ApiToken)
        async for row in queries.list_api_tokens(
            await db(conn),
            user_id=user_id,
            before_created_at=cursor.created_at,
            before_id=cursor.id,
            limit=limit,
        )
    ]


@boundary
async def rename_api_token(
    *, user_id: UserId, token_id: RowId, name: Text, conn: Conn | None = None
) -> ApiToken:
    """Rename one of the user's tokens; NotFoundError if it is not theirs."""
    request = convert({"name": name}, NewApiToken)
    row = await queries.rename_api_token(
        await db(conn), user_id=user_id, token_id=token_id, name=request.name
    )
    if row is None:
        raise NotFoundError("no such API token")
    return from_row(row, ApiToken)


@boundary
async def revoke_api_token(*, user_id: UserId, token_id: RowId, conn: Conn | None = None) -> None:
    """Revoke (delete) one of the user's tokens; NotFoundError if it is not theirs."""
    if await queries.delete_api_token(await db(conn), user_id=user_id, token_id=token_id) is None:
        raise NotFoundError("no such API token")


@boundary
async def authenticate_api_token(raw: object, *, conn: Conn | None = None) -> User | None:
    """The owner of an unexpired token, recording its use; an authentication entry point.

    Two statements: the hash's owner (``api_token_hashes``), then one
    statement of that user that refuses expiry and sets last_used_at and
    updated_at (as the app does). Malformed input (wrong shape or checksum)
    returns None without a query.
    """
    if not isinstance(raw, str) or not is_well_formed(raw):
        return None
    digest = token_hash(raw)
    target = await db(conn)
    owner = await queries.get_api_token_owner(target, token_hash=digest)
    if owner is None:
        return None
    row = await queries.authenticate_api_token(target, token_hash=digest, **owner)
    return None if row is None else from_row(row, User)


@boundary
async def purge_expired_api_tokens(
    *,
    grace: Annotated[timedelta, Within(timedelta(0), MAX_PURGE_GRACE)] = timedelta(days=7),
    conn: Conn | None = None,
) -> int:
    """Delete, across all users, tokens that expired more than ``grace`` ago; returns the count.

    A maintenance job (``coding-agent-db purge-expired-tokens``), not a request
    handler. The grace keeps a freshly expired token listed (as expired) for a while,
    so its owner sees why it stopped working.
    """
    count: int = await queries.purge_expired_api_tokens(await db(conn), grace=grace)
    return count
