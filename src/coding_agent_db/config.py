"""Configuration from the environment.

A variable is looked up in ``os.environ``, then in ``.env.local``, then in
``.env`` (both in the working directory, read once, never copied into
``os.environ``): the precedence the TypeScript app's tooling uses.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from coding_agent_db.errors import ConfigurationError

__all__ = ["DatabaseSettings", "database_settings", "database_url", "env", "env_int", "env_seconds"]

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


def env_seconds(name: str, default: float) -> float:
    """A duration in seconds (``2.5`` allowed), ``default`` when unset; 0 means no bound."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{name} must be a number of seconds >= 0")
    return value


PoolerMode = Literal["auto", "transaction", "none"]
POOLER_MODES: tuple[PoolerMode, ...] = ("auto", "transaction", "none")


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """How the pool connects and how long anything may wait (README "Production").

    Every duration is in seconds; 0 switches that bound off.
    """

    pooler: PoolerMode
    """``POSTGRES_POOLER``: ``auto`` detects a pooler at pool creation,
    ``transaction`` assumes one, ``none`` asserts a direct connection."""
    statement_cache_size: int
    lock_timeout: float
    statement_timeout: float
    connect_timeout: float
    acquire_timeout: float
    keepalive_idle: float


def database_settings() -> DatabaseSettings:
    """The connection settings from the environment; ConfigurationError naming a bad one."""
    pooler = (env("POSTGRES_POOLER") or "auto").lower()
    if pooler not in POOLER_MODES:
        raise ConfigurationError(f"POSTGRES_POOLER must be one of {', '.join(POOLER_MODES)}")
    connect_timeout = env_seconds("POSTGRES_CONNECT_TIMEOUT", 10)
    if not connect_timeout:
        raise ConfigurationError("POSTGRES_CONNECT_TIMEOUT must be > 0")
    return DatabaseSettings(
        pooler=pooler,
        statement_cache_size=env_int("POSTGRES_STATEMENT_CACHE_SIZE", 1024),
        lock_timeout=env_seconds("POSTGRES_LOCK_TIMEOUT", 5),
        statement_timeout=env_seconds("POSTGRES_STATEMENT_TIMEOUT", 30),
        connect_timeout=connect_timeout,
        acquire_timeout=env_seconds("POSTGRES_ACQUIRE_TIMEOUT", 10),
        keepalive_idle=env_seconds("POSTGRES_TCP_KEEPALIVE_IDLE", 30),
    )


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
