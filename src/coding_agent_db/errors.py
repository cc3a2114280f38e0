"""The exceptions this package raises.

Every message names what went wrong (a field, a variable, a limit) and never
the offending value: values may be secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import asyncpg

__all__ = [
    "CodingAgentDbError",
    "ConfigurationError",
    "DecryptionError",
    "InvalidTransitionError",
    "LimitExceededError",
    "NotFoundError",
    "RateLimitExceededError",
    "ValidationError",
    "user_must_exist",
]


class CodingAgentDbError(Exception):
    """Base class of every error raised on purpose by coding_agent_db."""


class ConfigurationError(CodingAgentDbError):
    """An environment variable is missing or malformed; the message names it."""


class ValidationError(CodingAgentDbError, ValueError):
    """Input was refused before any SQL was sent.

    ``field`` is the offending field's path (``"prompt"``, ``"entries[3].type"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFoundError(CodingAgentDbError, LookupError):
    """A mutation found no row: it does not exist, or it is another user's."""


class InvalidTransitionError(CodingAgentDbError):
    """A change the row's state does not allow: a final task's status, a follow-up to a
    finished task, unlinking the account a user signs in with."""


class ConflictError(CodingAgentDbError):
    """A concurrent change won the race (e.g. two users merging one GitHub account);
    nothing was written. Retry if it is still wanted."""


class LimitExceededError(CodingAgentDbError):
    """A per-user cap (e.g. live API tokens) is reached."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class RateLimitExceededError(CodingAgentDbError):
    """The user's daily task + message limit is used up until ``reset_at``."""

    def __init__(self, *, total: int, reset_at: datetime) -> None:
        super().__init__(
            f"daily limit of {total} tasks and messages reached; resets at {reset_at.isoformat()}"
        )
        self.remaining = 0
        self.total = total
        self.reset_at = reset_at


class DecryptionError(CodingAgentDbError):
    """A stored secret cannot be decrypted: altered, moved, or under an unknown key."""


@contextmanager
def user_must_exist() -> Iterator[None]:
    """Around an insert of a user's row: an unknown user_id is NotFoundError, like a lookup's."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError:
        raise NotFoundError("no such user") from None
