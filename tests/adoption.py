"""The TypeScript app's database, built and filled the app's way, for the adoption tests.

``build_app_schema`` runs the app's real drizzle migrations (vendored under
tests/drizzle/, see its README) in journal order, split on drizzle's
``--> statement-breakpoint``, and records them in drizzle's journal as its
migrator does. ``fill_app_data`` writes rows the way the app's code does:
secrets in its AES-256-CBC ``ivhex:cthex`` format under ENCRYPTION_KEY, API
tokens as the sha256 hex of a 64-hex raw token, logs and sub-agent activity
as lib/utils/task-logger.ts appends them, messages without user_id.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.conftest import checks

DRIZZLE_DIR = Path(__file__).parent / "drizzle"
BREAKPOINT = "--> statement-breakpoint"


def drizzle_migrations(upto: int | None = None) -> list[tuple[str, int]]:
    """(file name, journal ``when``) of the app's migrations in journal order, 0000..``upto``."""
    journal = json.loads((DRIZZLE_DIR / "meta" / "_journal.json").read_text())
    entries = [(entry["tag"] + ".sql", int(entry["when"])) for entry in journal["entries"]]
    return entries if upto is None else entries[: upto + 1]


async def build_app_schema(url: str, *, upto: int | None = None) -> None:
    """The app's schema at drizzle migration ``upto`` (default: the last, 0024)."""
    conn = await asyncpg.connect(url)
    try:
        await checks.create_drizzle_journal(conn)
        for name, when in drizzle_migrations(upto):
            text = (DRIZZLE_DIR / name).read_text()
            for statement in text.split(BREAKPOINT):
                if statement.strip():
                    await conn.execute(statement)
            await checks.record_drizzle_migration(
                conn, hash=hashlib.sha256(text.encode()).hexdigest(), created_at=when
            )
    finally:
        await conn.close()


def legacy_encrypt(plaintext: str, key_hex: str | None = None) -> str:
    """lib/crypto.ts encrypt(): AES-256-CBC, PKCS#7, random IV, ``ivhex:cthex``."""
    key = bytes.fromhex(key_hex or os.environ["ENCRYPTION_KEY"])
    iv = secrets.token_bytes(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return f"{iv.hex()}:{(encryptor.update(padded) + encryptor.finalize()).hex()}"


def app_id() -> str:
    """An id like the app's nanoid/cuid2 ones."""
    return secrets.token_urlsafe(15).replace("-", "a").replace("_", "b")


def iso(moment: datetime) -> str:
    """JavaScript's Date.toISOString()."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def log_entry(kind: str, message: str, at: datetime, **source: Any) -> dict[str, Any]:
    """A log entry as lib/utils/logging.ts creates it."""
    entry: dict[str, Any] = {"type": kind, "message": message, "timestamp": iso(at)}
    if source:
        entry["agentSource"] = source
    return entry


@dataclass
class AppUser:
    """What the app stored for one user, in plaintext, to compare after adoption."""

    id: str
    access_token: str
    refresh_token: str | None
    created_at: datetime
    account_token: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    task_ids: list[str] = field(default_factory=list)
    message_ids: dict[str, list[str]] = field(default_factory=dict)
    connector_secrets: dict[str, tuple[str | None, dict[str, str]]] = field(default_factory=dict)
    raw_api_token: str = ""
    settings: dict[str, str] = field(default_factory=dict)


@dataclass
class AppData:
    """Everything fill_app_data wrote."""

    users: list[AppUser]
    logs: dict[str, list[dict[str, Any]]]
    sub_agents: dict[str, list[dict[str, Any]]]


async def fill_app_data(url: str, *, users: int = 3, tasks_per_user: int = 3) -> AppData:
    """Rows written the app's way for ``users`` users (GitHub and Vercel sign-ins)."""
    conn = await asyncpg.connect(url)
    base = datetime(2025, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)
    written: list[AppUser] = []
    all_logs: dict[str, list[dict[str, Any]]] = {}
    all_sub_agents: dict[str, list[dict[str, Any]]] = {}
    try:
        for number in range(users):
            created = base + timedelta(days=number)
            user = AppUser(
                id=app_id(),
                access_token=f"gho_{secrets.token_hex(18)}",
                refresh_token=None if number % 2 else f"ghr_{secrets.token_hex(18)}",
                created_at=created,
            )
            provider = "github" if number % 2 == 0 else "vercel"
            await checks.app_insert_user(
                conn,
                id=user.id,
                provider=provider,
                external_id=str(1000 + number),
                access_token=legacy_encrypt(user.access_token),
                refresh_token=None
                if user.refresh_token is None
                else legacy_encrypt(user.refresh_token),
                username=f"person{number}",
                email=f"person{number}@example.com",
                # drizzle sends Date.toISOString(); a `timestamp` column keeps the UTC wall time.
                created_at=created.replace(tzinfo=None),
            )
            if provider == "vercel":
                user.account_token = f"gho_{secrets.token_hex(18)}"
                await checks.app_insert_account(
                    conn,
                    id=app_id(),
                    user_id=user.id,
                    external_user_id=str(5000 + number),
                    access_token=legacy_encrypt(user.account_token),
                    username=f"gh-person{number}",
                )
            for provider_name in ("anthropic", "openai"):
                value = f"sk-{provider_name}-{secrets.token_hex(20)}"
                user.keys[provider_name] = value
                await checks.app_insert_key(
                    conn,
                    id=app_id(),
                    user_id=user.id,
                    provider=provider_name,
                    value=legacy_encrypt(value),
                )
            for index in range(tasks_per_user):
                task_id = app_id()
                user.task_ids.append(task_id)
                at = created + timedelta(minutes=index)
                await checks.app_insert_task(
                    conn,
                    id=task_id,
                    user_id=user.id,
                    prompt=f"Fix bug {index} — ünïcode ✓",
                    repo_url="https://github.com/acme/app",
                    selected_agent="claude",
                    max_duration=300,
                    created_at=at.replace(tzinfo=None),
                )
                logs = [
                    log_entry("info", "Task created, preparing to start...", at),
                    log_entry("command", "git clone https://github.com/acme/app", at),
                    log_entry("success", "Sandbox ready", at, name="claude", isSubAgent=False),
                ]
                await checks.app_append_logs(conn, task_id=task_id, entries=json.dumps(logs))
                sub_id = app_id()
                activity = {
                    "id": sub_id,
                    "name": "Explore",
                    "type": "explore",
                    "status": "starting",
                    "startedAt": iso(at),
                    "description": "read the code",
                }
                start_log = log_entry(
                    "subagent",
                    "Sub-agent started: Explore - read the code",
                    at,
                    name="Explore",
                    isSubAgent=True,
                    parentAgent="claude",
                    subAgentId=sub_id,
                )
                await checks.app_append_sub_agent(
                    conn,
                    task_id=task_id,
                    activity=json.dumps([activity]),
                    entries=json.dumps([start_log]),
                )
                all_logs[task_id] = [*logs, start_log]
                all_sub_agents[task_id] = [activity]
                user.message_ids[task_id] = []
                for role, content in (("user", "please fix it"), ("agent", "done: see PR")):
                    message_id = app_id()
                    user.message_ids[task_id].append(message_id)
                    await checks.app_insert_message(
                        conn, id=message_id, task_id=task_id, role=role, content=content
                    )
            remote_id, local_id = app_id(), app_id()
            secret = f"client-secret-{secrets.token_hex(8)}"
            env = {"API_KEY": f"key-{secrets.token_hex(8)}", "MODE": "fast"}
            await checks.app_insert_connector(
                conn,
                id=remote_id,
                user_id=user.id,
                name="remote docs",
                type="remote",
                base_url="https://mcp.example.com/sse",
                command=None,
                env=None,
                oauth_client_secret=legacy_encrypt(secret),
            )
            await checks.app_insert_connector(
                conn,
                id=local_id,
                user_id=user.id,
                name="local fs",
                type="local",
                base_url=None,
                command="npx -y @modelcontextprotocol/server-filesystem /tmp",
                env=legacy_encrypt(json.dumps(env)),
                oauth_client_secret=None,
            )
            user.connector_secrets = {remote_id: (secret, {}), local_id: (None, env)}
            user.settings = {"maxMessagesPerDay": str(40 + number)}
            await checks.app_insert_setting(
                conn, id=app_id(), user_id=user.id, key="maxMessagesPerDay", value=str(40 + number)
            )
            raw = secrets.token_hex(32)
            user.raw_api_token = raw
            await checks.app_insert_api_token(
                conn,
                id=app_id(),
                user_id=user.id,
                name="ci",
                token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                token_prefix=raw[:8],
            )
            written.append(user)
    finally:
        await conn.close()
    return AppData(users=written, logs=all_logs, sub_agents=all_sub_agents)
