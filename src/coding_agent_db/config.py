"""Configuration from the environment.

A variable is looked up in ``os.environ``, then in ``.env.local``, then in
``.env`` (both in the working directory, read once, never copied into
``os.environ``): the precedence the TypeScript app's tooling uses.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from coding_agent_db.errors import ConfigurationError

__all__ = ["database_url", "env", "env_int"]

DOTENV_FILES = (".env.local", ".env")


@functools.cache
def _dotenv(cwd: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name in reversed(DOTENV_FILES):
        path = Path(cwd, name)
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    return merged


def env(name: str) -> str | None:
    """The value of ``name``, or None when it is unset or empty everywhere."""
    value = os.environ.get(name)
    if value is None:
        value = _dotenv(os.getcwd()).get(name)
    return value or None


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """An integer variable, ``default`` when unset; ConfigurationError when malformed."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}")
    return value


def database_url(name: str = "POSTGRES_URL") -> str:
    """The PostgreSQL URL in ``name``; ConfigurationError when missing or malformed.

    The URL itself is never part of an error message: it may carry a password.
    """
    url = env(name)
    if url is None:
        raise ConfigurationError(
            f"{name} is not set: export it, or put it in .env.local or .env "
            f"(e.g. {name}=postgresql://user:password@localhost:5432/dbname)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid URL") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigurationError(f"{name} must start with postgresql:// or postgres://")
    if not (parts.hostname or "host=" in parts.query):
        raise ConfigurationError(f"{name} names no host")
    return url
