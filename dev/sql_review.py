"""``make sql-review``: every query of queries/ planned and run at realistic scale.

Seeds a new database (dev/sql/seed.sql: by default 1,000 users, 1M tasks,
1k-entry logs on a tenth of the users' first tasks, messages on the newest
tasks, keys, settings, connectors, API tokens), then runs
``EXPLAIN (ANALYZE, BUFFERS)`` (dev/sql/explain.sql) for every query with the
representative parameters of ``PARAMETERS``, each in a transaction that is
rolled back, so writes change nothing the next query sees. Writes one Markdown
document: per query its file, name, doc line, parameters, SQL, plan, time,
buffers and flags.

Flags: a sequential scan of a table of the schema (``seq-scan:<table>``), a
sort of more than ``SORT_ROWS`` rows: an order no index gives (``sort``), and more than
``ROWS_REMOVED`` rows read and thrown away by a filter
(``rows-removed:<table>``). dev/plan_excuses.txt excuses a flag of a query
with a reason; any other flag fails ``make sql-review`` and
tests/test_sql_review.py.

The server is ``SQL_REVIEW_POSTGRES_URL``, else ``POSTGRES_URL``, else an
embedded PostgreSQL; the review creates a database of its own there and drops
it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosql
import psycopg
from psycopg import sql

import coding_agent_db as cadb
from coding_agent_db.migrate import apply_migrations
from coding_agent_db.paths import QUERIES_DIR
from coding_agent_db.sql import DirectAsyncpgAdapter, queries

HERE = Path(__file__).resolve().parent
SQL_DIR = HERE / "sql"
EXCUSES = HERE / "plan_excuses.txt"
EXPLAIN = " ".join(
    line for line in (SQL_DIR / "explain.sql").read_text().splitlines() if not line.startswith("--")
).strip()
"""The EXPLAIN options put before each query (dev/sql/explain.sql)."""

seed_sql: Any = aiosql.from_path(SQL_DIR / "seed.sql", DirectAsyncpgAdapter)

ROWS_REMOVED = 1000
"""More rows than this thrown away by a filter in one plan node is a flag."""

SORT_ROWS = 100
"""A Sort node over more rows than this is a flag (a few rows fetched by index sort for free)."""

SCHEMA_TABLES = frozenset(
    {"users", "accounts", "keys", "tasks", "task_messages", "connectors", "settings", "api_tokens"}
)


@dataclass(frozen=True)
class Scale:
    """How much the seed writes."""

    users: int = 1000
    tasks_per_user: int = 1000
    log_entries: int = 1000
    tasks_with_messages: int = 100
    """Per user, the newest tasks that get a user message and an agent reply."""

    def describe(self) -> str:
        return (
            f"{self.users:,} users, {self.users * self.tasks_per_user:,} tasks, "
            f"{self.log_entries:,}-entry logs on the first task of every tenth user, "
            f"2 messages on each user's newest {self.tasks_with_messages} tasks, "
            "2 keys, 1-2 settings, 3 connectors and 2 API tokens per user"
        )


# The seeded rows are named by pattern (dev/sql/seed.sql): the sample user is
# u000001, a Vercel user with a linked GitHub account, whose first task has
# the long log.
SAMPLE_USER = "u000001"
SAMPLE_TASK = f"{SAMPLE_USER}-t1"
OTHER_USER = "u000002"
"""The user merged into SAMPLE_USER by the account-merge queries."""
NOW = datetime.now(UTC)


def parameters_by_name() -> dict[str, Any]:
    """A representative value for every parameter name of queries/."""
    batch = [f"u{n:06d}" for n in range(1, 501)]
    return {
        "user_id": SAMPLE_USER,
        "id": "review-new-row",
        "task_id": SAMPLE_TASK,
        "message_id": f"{SAMPLE_TASK}-agent",
        "connector_id": f"{SAMPLE_USER}-c2",
        "token_id": f"{SAMPLE_USER}-k1",
        "token_hash": hashlib.sha256(f"{SAMPLE_USER}-k1".encode()).hexdigest(),
        "token_prefix": "cadb_x",
        "provider": "github",
        "external_id": "ext-2",
        "external_user_id": f"gh-{SAMPLE_USER}",
        "key": "maxMessagesPerDay",
        "value": "v1:0a1b2c3d:c2VjcmV0",
        "name": "review",
        "description": "review",
        "type": "remote",
        "base_url": "https://mcp.example.com",
        "oauth_client_id": None,
        "oauth_client_secret": None,
        "command": None,
        "env": None,
        "status": "completed",
        "access_token": "v1:0a1b2c3d:dG9rZW4",
        "refresh_token": None,
        "expires_at": NOW + timedelta(days=30),
        "scope": "repo",
        "username": "reviewer",
        "email": "reviewer@example.com",
        "avatar_url": "https://avatars.example.com/r",
        "limit": 50,
        "before_created_at": NOW + timedelta(days=1),
        "before_id": "~",
        "after": 990,
        "logs_after": 0,
        "after_id": "",
        "after_user_id": "",
        "batch_size": 500,
        "entries": [{"type": "info", "message": "review", "timestamp": NOW.isoformat()}],
        "delta": " and more",
        "content": "Please also run the linter.",
        "prompt": "Review the plans",
        "title": "Review",
        "repo_url": "https://github.com/example/repo",
        "selected_agent": "claude",
        "selected_model": None,
        "install_dependencies": False,
        "max_duration": 300,
        "keep_alive": False,
        "enable_browser": False,
        "mcp_server_ids": [f"{SAMPLE_USER}-c1"],
        "connector_ids": [f"{SAMPLE_USER}-c1", f"{SAMPLE_USER}-c2"],
        "default_daily_limit": 1000,
        "max_live_tokens": 20,
        "progress": 50,
        "error": None,
        "branch_name": "agent/review",
        "source_branch": "main",
        "sandbox_id": "sbx-review",
        "sandbox_url": "https://sbx.example.com",
        "preview_url": None,
        "agent_session_id": "session-review",
        "pr_url": "https://github.com/example/repo/pull/1",
        "pr_number": 1,
        "pr_status": "open",
        "pr_merge_commit_sha": None,
        "sub_agent_activity": [{"id": "s1", "name": "tester", "status": "running"}],
        "current_sub_agent": "tester",
        "older_than": timedelta(days=30),
        "ids": batch,
        "user_ids": batch,
        "access_tokens": ["v1:0a1b2c3d:dG9rZW4"] * len(batch),
        "refresh_tokens": [None] * len(batch),
        "key_values": ["v1:0a1b2c3d:a2V5"] * len(batch),
        "oauth_client_secrets": [None] * len(batch),
        "envs": [None] * len(batch),
        # Issue 9's task and identity calls.
        "account_id": f"{SAMPLE_USER}-gh",
        "new_user_id": OTHER_USER,
        "activity": [{"id": "s2", "name": "reviewer", "status": "starting"}],
        "sub_agent_id": "s1",
        "changes": {"status": "running"},
        "completed_at": NOW.isoformat(),
        "parent_agent": "primary",
        "admin_email_domains": ["@example.com"],
        "admin_daily_limit": 100,
        # Issue 10's capped agent replies; issue 12's token purge.
        "max_length": 100_000,
        "marker": "... [truncated]",
        "grace": timedelta(days=7),
    }


OVERRIDES: dict[str, dict[str, Any]] = {
    # Keys are per AI provider; the seeded ones are anthropic and openai.
    "upsert_key": {"provider": "anthropic"},
    "upsert_setting": {"value": "100"},
    "create_api_token": {"token_hash": hashlib.sha256(b"review-new-token").hexdigest()},
    "get_key": {"provider": "anthropic"},
    "delete_key": {"provider": "anthropic"},
    "get_user_identity": {"provider": "github"},
    "create_user": {"user_id": "review-new-user", "provider": "github", "external_id": "new"},
    "create_connector": {"status": "connected"},
    "update_connector": {"status": "connected"},
    "update_connector_status": {"status": "disconnected"},
    # The batch updates of key rotation take (user_id, id) keys of their own table.
    "update_account_secrets": {
        "user_ids": [f"u{n:06d}" for n in range(1, 1001, 2)],
        "ids": [f"u{n:06d}-gh" for n in range(1, 1001, 2)],
    },
    "update_key_secrets": {
        "user_ids": [f"u{n:06d}" for n in range(1, 501)],
        "ids": [f"u{n:06d}-anthropic" for n in range(1, 501)],
    },
    "update_connector_secrets": {
        "user_ids": [f"u{n:06d}" for n in range(1, 501)],
        "ids": [f"u{n:06d}-c3" for n in range(1, 501)],
    },
    "update_task_status": {"status": "processing"},
    # Every seeded user has anthropic and openai keys: move one they lack.
    "move_keys": {"providers": ["gemini"], "key_values": ["v1:0a1b2c3d:a2V5"]},
}


@dataclass
class Reviewed:
    """One query's review: what ran and how it was planned."""

    file: str
    name: str
    doc: str
    parameters: dict[str, Any]
    sql: str
    plan: dict[str, Any]
    planning_ms: float
    execution_ms: float
    flags: list[str] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    """Trigger runs (foreign-key cascades and checks), whose statements EXPLAIN does not show."""

    @property
    def shared_hit(self) -> int:
        return int(self.plan.get("Shared Hit Blocks", 0))

    @property
    def shared_read(self) -> int:
        return int(self.plan.get("Shared Read Blocks", 0))


def query_files() -> dict[str, str]:
    """The file of queries/ that defines each query name."""
    found = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        for match in re.finditer(r"^-- name: (\w+)", path.read_text(), re.MULTILINE):
            found[match.group(1)] = path.name
    return found


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan tree."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def plan_flags(plan: dict[str, Any], rows_removed: int = ROWS_REMOVED) -> list[str]:
    """The flags of a plan (see the module docstring), sorted, each once."""
    flags = set()
    for node in plan_nodes(plan):
        relation = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and relation in SCHEMA_TABLES:
            flags.add(f"seq-scan:{relation}")
        if node["Node Type"] in ("Sort", "Incremental Sort"):
            sorted_rows = sum(
                child.get("Actual Rows", 0) * child.get("Actual Loops", 1)
                for child in node.get("Plans", [])
            )
            if sorted_rows > SORT_ROWS:
                flags.add("sort")
        removed = sum(
            node.get(key, 0) for key in ("Rows Removed by Filter", "Rows Removed by Join Filter")
        ) * node.get("Actual Loops", 1)
        if removed > rows_removed:
            flags.add(f"rows-removed:{relation or node['Node Type']}")
    return sorted(flags)


def read_excuses(path: Path = EXCUSES) -> dict[tuple[str, str], str]:
    """``(query, flag) -> reason`` from ``path``: ``<query> <flag> <reason>`` lines."""
    excuses = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 3:
            raise ValueError(f"{path}:{number}: expected '<query> <flag> <reason>'")
        excuses[(parts[0], parts[1])] = parts[2]
    return excuses


def unexcused(reviewed: list[Reviewed], excuses: dict[tuple[str, str], str]) -> list[str]:
    """``query: flag`` for every flag that no excuse covers."""
    return [
        f"{query.name}: {flag}"
        for query in reviewed
        for flag in query.flags
        if (query.name, flag) not in excuses
    ]


class _RolledBack(Exception):
    """Raised to roll back a reviewed query's transaction."""


async def seed(conn: cadb.Connection, scale: Scale) -> dict[str, int]:
    """Fill the empty, migrated database at ``scale``; returns rows written per step."""
    done = {
        "users": await seed_sql.seed_users(conn, user_count=scale.users),
        "accounts": await seed_sql.seed_accounts(conn),
        "keys": await seed_sql.seed_keys(conn),
        "settings": await seed_sql.seed_settings(conn),
        "connectors": await seed_sql.seed_connectors(conn),
        "api_tokens": await seed_sql.seed_api_tokens(conn),
        "tasks": await seed_sql.seed_tasks(conn, tasks_per_user=scale.tasks_per_user),
        "long logs": await seed_sql.seed_long_logs(conn, log_entries=scale.log_entries),
        "short logs": await seed_sql.seed_short_logs(conn),
        "task_messages": await seed_sql.seed_messages(
            conn, tasks_with_messages=scale.tasks_with_messages
        ),
    }
    await seed_sql.analyze_seeded_tables(conn)
    return done


async def review_query(conn: cadb.Connection, name: str, file: str) -> Reviewed:
    """EXPLAIN (ANALYZE, BUFFERS) one query in a transaction that is rolled back."""
    query = getattr(queries, name)
    values = {**parameters_by_name(), **OVERRIDES.get(name, {})}
    parameters = {parameter: values[parameter] for parameter in query.parameters}
    # The adapter numbers the parameters by first use ($1, $2, ...).
    args = [parameters[parameter] for parameter in queries.driver_adapter.var_sorted[name]]
    explained: Any = None
    try:
        async with conn.transaction():
            explained = await conn.fetchval(f"{EXPLAIN} {query.sql}", *args)
            raise _RolledBack
    except _RolledBack:
        pass
    # EXPLAIN returns json (not jsonb): text, parsed here.
    document = json.loads(explained)[0]
    return Reviewed(
        file=file,
        name=name,
        doc=query.__doc__ or "",
        parameters=parameters,
        sql=query.sql,
        plan=document["Plan"],
        planning_ms=float(document["Planning Time"]),
        execution_ms=float(document["Execution Time"]),
        flags=plan_flags(document["Plan"]),
        triggers=document.get("Triggers", []),
    )


async def review(conn: cadb.Connection) -> list[Reviewed]:
    """Every query of queries/, reviewed twice (the first run warms the cache); the second kept."""
    reviewed = []
    for name, file in query_files().items():
        await review_query(conn, name, file)
        reviewed.append(await review_query(conn, name, file))
    return reviewed


def plan_text(plan: dict[str, Any], depth: int = 0) -> Iterator[str]:
    """An EXPLAIN (ANALYZE, BUFFERS) JSON plan as indented text, one node a line plus details."""
    pad = "  " * depth
    arrow = "-> " if depth else ""
    title = plan["Node Type"]
    if "Relation Name" in plan:
        title += f" on {plan['Relation Name']}"
    if "Index Name" in plan:
        title += f" using {plan['Index Name']}"
    yield (
        f"{pad}{arrow}{title}  (cost={plan['Startup Cost']:.2f}..{plan['Total Cost']:.2f} "
        f"rows={plan['Plan Rows']}) (actual time={plan.get('Actual Total Time', 0):.3f} "
        f"rows={plan.get('Actual Rows', 0)} loops={plan.get('Actual Loops', 1)})"
    )
    for key in (
        "Index Cond",
        "Recheck Cond",
        "Filter",
        "Join Filter",
        "Hash Cond",
        "Sort Key",
        "Rows Removed by Filter",
        "Rows Removed by Join Filter",
    ):
        if key in plan:
            detail = plan[key]
            detail = ", ".join(detail) if isinstance(detail, list) else detail
            yield f"{pad}     {key}: {detail}"
    hit, read = plan.get("Shared Hit Blocks", 0), plan.get("Shared Read Blocks", 0)
    dirtied, written = plan.get("Shared Dirtied Blocks", 0), plan.get("Shared Written Blocks", 0)
    if hit or read or dirtied or written:
        yield f"{pad}     Buffers: shared hit={hit} read={read} dirtied={dirtied} written={written}"
    for child in plan.get("Plans", []):
        yield from plan_text(child, depth + 1)


def render(
    reviewed: list[Reviewed],
    scale: Scale,
    excuses: dict[tuple[str, str], str],
    seeded: dict[str, int],
    seconds: float,
) -> str:
    """The report, as Markdown."""
    flagged = [(query, flag) for query in reviewed for flag in query.flags]
    failing = unexcused(reviewed, excuses)
    slowest = sorted(reviewed, key=lambda query: query.execution_ms, reverse=True)[:3]
    lines = [
        "# SQL review: every query of queries/ planned at scale",
        "",
        f"Generated by `make sql-review` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"seed and review in {seconds:.0f} s.",
        f"Scale: {scale.describe()}. Rows seeded: "
        + ", ".join(f"{table} {count:,}" for table, count in seeded.items())
        + ".",
        "",
        "Each query ran twice with the parameters shown, inside a transaction rolled back; "
        "the second run (warm cache) is reported. Times are `EXPLAIN ANALYZE`'s, which adds "
        "timing overhead of its own. Flags: `seq-scan:<table>` a sequential scan of a table "
        f"of the schema, `sort` a Sort node over more than {SORT_ROWS} rows (an order no index "
        "gives), "
        f"`rows-removed:<table>` more than {ROWS_REMOVED:,} rows read and discarded by a "
        "filter. Excused flags carry the reason from dev/plan_excuses.txt.",
        "",
        f"**{len(reviewed)} queries, {len(flagged)} flags, {len(failing)} not excused.** "
        "Slowest: "
        + ", ".join(f"`{query.name}` {query.execution_ms:.2f} ms" for query in slowest)
        + ".",
        "",
    ]
    if failing:
        lines += ["## Flags not excused", "", *[f"- {item}" for item in failing], ""]
    lines += [
        "## Summary",
        "",
        "| query | file | execution ms | planning ms | shared hit | shared read | flags |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for query in reviewed:
        flags = ", ".join(
            f"{flag}{'' if (query.name, flag) in excuses else ' (NOT EXCUSED)'}"
            for flag in query.flags
        )
        lines.append(
            f"| [`{query.name}`](#{query.name}) | {query.file} | {query.execution_ms:.3f} | "
            f"{query.planning_ms:.3f} | {query.shared_hit} | {query.shared_read} | {flags} |"
        )
    lines += ["", "## Indexes and the queries whose plans use them", ""]
    lines += [
        f"- `{index}`: " + ", ".join(f"`{name}`" for name in names)
        for index, names in sorted(index_users(reviewed).items())
    ]
    lines.append("")
    for query in reviewed:
        lines += [
            f"## {query.name}",
            "",
            f"`queries/{query.file}`: {query.doc}",
            "",
            "Parameters: "
            + (
                ", ".join(f"`{key}` = `{_short(value)}`" for key, value in query.parameters.items())
                or "none"
            ),
            "",
            f"Execution {query.execution_ms:.3f} ms, planning {query.planning_ms:.3f} ms; "
            f"buffers: shared hit {query.shared_hit}, read {query.shared_read}.",
            "",
        ]
        if query.triggers:
            lines += [
                "Triggers (time included in execution): "
                + ", ".join(
                    f"{trigger.get('Trigger Name', '?')} on {trigger.get('Relation', '?')} "
                    f"{float(trigger.get('Time', 0)):.3f} ms / {trigger.get('Calls', 0)} calls"
                    for trigger in query.triggers
                )
                + ".",
                "",
            ]
        if query.flags:
            lines += ["Flags:", ""]
            for flag in query.flags:
                reason = excuses.get((query.name, flag))
                lines.append(f"- `{flag}`: " + (f"excused: {reason}" if reason else "NOT EXCUSED"))
            lines.append("")
        else:
            lines += ["Flags: none.", ""]
        lines += ["```sql", query.sql, "```", "", "```", *plan_text(query.plan), "```", ""]
    return "\n".join(lines)


def index_users(reviewed: list[Reviewed]) -> dict[str, list[str]]:
    """Index name -> the queries whose plans read it."""
    users: dict[str, list[str]] = {}
    for query in reviewed:
        for index in sorted({n["Index Name"] for n in plan_nodes(query.plan) if "Index Name" in n}):
            users.setdefault(index, []).append(query.name)
    return users


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@contextmanager
def review_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on the server; dropped on exit."""
    name = f"cadb_review_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


async def run_review(url: str, scale: Scale) -> tuple[list[Reviewed], dict[str, int], float]:
    """Seed the database at ``url`` and review every query; returns the reviews."""
    started = time.monotonic()
    pool = await cadb.create_pool(url)
    try:
        async with pool.acquire() as conn:
            seeded = await seed(conn, scale)
            reviewed = await review(conn)
    finally:
        await pool.close()
    return reviewed, seeded, time.monotonic() - started


@contextmanager
def server() -> Iterator[str]:
    """The admin URL of the server to review on (see the module docstring)."""
    url = os.environ.get("SQL_REVIEW_POSTGRES_URL") or os.environ.get("POSTGRES_URL")
    if url:
        yield url
        return
    from coding_agent_db.embedded import embedded_server

    with (
        tempfile.TemporaryDirectory(prefix="cadb-review-") as tmp,
        embedded_server(Path(tmp) / "pgdata", keep_data=False) as embedded,
    ):
        yield embedded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    defaults = Scale()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--tasks-per-user", type=int, default=defaults.tasks_per_user)
    parser.add_argument("--log-entries", type=int, default=defaults.log_entries)
    parser.add_argument("--tasks-with-messages", type=int, default=defaults.tasks_with_messages)
    parser.add_argument("--output", type=Path, default=Path("sql-review.md"))
    options = parser.parse_args(argv)
    scale = Scale(
        options.users, options.tasks_per_user, options.log_entries, options.tasks_with_messages
    )
    excuses = read_excuses()
    with server() as server_url, review_database(server_url) as url:
        reviewed, seeded, seconds = asyncio.run(run_review(url, scale))
    options.output.write_text(render(reviewed, scale, excuses, seeded, seconds))
    failing = unexcused(reviewed, excuses)
    flags = sum(len(query.flags) for query in reviewed)
    slowest = sorted(reviewed, key=lambda query: query.execution_ms, reverse=True)[:3]
    print(
        f"{options.output}: {len(reviewed)} queries, {flags} flags, {len(failing)} not excused; "
        "slowest: " + ", ".join(f"{q.name} {q.execution_ms:.2f} ms" for q in slowest)
    )
    for item in failing:
        print(f"not excused: {item}", file=sys.stderr)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
