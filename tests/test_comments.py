"""Every table, view and non-obvious column carries a COMMENT ON (migration 0020).

A new column without a comment fails here: comment it in its migration, or,
if its name says it all, add it to OBVIOUS_COLUMNS in review.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

import coding_agent_db as cadb
from coding_agent_db.rotation import _TABLES as ENCRYPTED_TABLES
from tests.conftest import FreshDatabase, checks

REPO = Path(__file__).resolve().parent.parent

OBVIOUS_COLUMNS = {"id", "user_id", "created_at", "updated_at"}
"""Column names that need no comment, in any table (reviewed list: keep it short)."""

GCM_FORMAT = "v1:<key id>:<base64url(nonce||ct||tag)> (AES-256-GCM)"
CBC_FORMAT = "<iv hex>:<ciphertext hex> (AES-256-CBC"


async def column_comments(conn: cadb.Connection) -> dict[tuple[str, str], str | None]:
    return {
        (row["table_name"], row["column_name"]): row["comment"]
        async for row in checks.list_column_comments(conn)
    }


async def test_every_table_and_view_has_a_comment(conn: cadb.Connection) -> None:
    tables = {row["table_name"]: row["comment"] async for row in checks.list_table_comments(conn)}
    assert {"users", "tasks", "task_messages", "daily_usage"} <= tables.keys()
    assert [name for name, comment in tables.items() if not comment] == []


async def test_every_column_not_obvious_has_a_comment(conn: cadb.Connection) -> None:
    comments = await column_comments(conn)
    assert ("tasks", "logs") in comments
    missing = [
        f"{table}.{column}"
        for (table, column), comment in comments.items()
        if column not in OBVIOUS_COLUMNS and not comment
    ]
    assert missing == [], "COMMENT ON COLUMN these in a migration"


async def test_encrypted_columns_say_so_and_name_both_formats(conn: cadb.Connection) -> None:
    comments = await column_comments(conn)
    encrypted = [(table.name, column) for table in ENCRYPTED_TABLES for column in table.columns]
    assert len(encrypted) >= 7
    for key in encrypted:
        comment = comments[key] or ""
        assert comment.startswith("Encrypted (coding_agent_db.crypto)"), key
        assert GCM_FORMAT in comment, key
        assert CBC_FORMAT in comment, key
    # And no column claims encryption that rotation does not know of.
    claimed = {key for key, comment in comments.items() if (comment or "").startswith("Encrypted")}
    assert claimed == set(encrypted)


async def test_jsonb_columns_name_their_shape(conn: cadb.Connection) -> None:
    comments = await column_comments(conn)
    jsonb = [
        (row["table_name"], row["column_name"]) async for row in checks.list_jsonb_columns(conn)
    ]
    assert ("tasks", "logs") in jsonb
    for key in jsonb:
        comment = comments[key] or ""
        assert comment.startswith("JSONB array of ") or comment.startswith("JSONB object "), key
        assert "{" in comment or "strings" in comment, key


def yoyo_rollback(url: str, revision: str) -> None:
    """``yoyo rollback --revision`` in the repository, as a DBA runs it."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "yoyo"), "rollback", "--batch", "--revision", revision],
        cwd=REPO,
        env={**os.environ, "POSTGRES_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


async def test_rolling_back_0020_restores_the_earlier_comments(
    fresh_database: FreshDatabase,
) -> None:
    url = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(yoyo_rollback, url, "0020.comment-tables-and-columns")
    db = await asyncpg.connect(url)
    try:
        provider = await checks.get_column_comment(db, table_name="users", column_name="provider")
        token = await checks.get_column_comment(db, table_name="users", column_name="access_token")
    finally:
        await db.close()
    assert provider is None
    assert token == (
        "Encrypted (coding_agent_db.crypto): OAuth access token of the sign-in provider."
    )
