"""The contract between queries/, migrations/ and the Python layer, in the spirit
of ``sqlc vet``: every query is scoped by user_id (or marked as one of the few
that cannot be), prepares against the migrated schema, returns the columns its
model expects, and is called from the package; the models' enums are the
CHECK constraints' values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

import coding_agent_db as cadb
from coding_agent_db import models, status
from coding_agent_db.paths import QUERIES_DIR
from coding_agent_db.sql import LOCKING_READS, READ_PREFIXES, is_read, queries
from tests.conftest import checks

SRC_DIR = Path(cadb.__file__).parent

UNSCOPED_MARKERS = ("Unscoped (authentication entry point):", "Unscoped (maintenance")

# The queries that cannot take user_id, reviewed one by one. Adding to this
# list is a security review, not a formality.
EXPECTED_UNSCOPED = {
    "get_user_identity",
    "get_account_identity",
    "get_api_token_owner",
    "count_user_secrets",
    "list_user_secrets",
    "update_user_secrets",
    "count_account_secrets",
    "list_account_secrets",
    "update_account_secrets",
    "count_key_secrets",
    "list_key_secrets",
    "update_key_secrets",
    "count_connector_secrets",
    "list_connector_secrets",
    "update_connector_secrets",
    "purge_deleted_tasks",
    "get_backend_pid",
    "purge_expired_api_tokens",
    "get_server_version",
    "get_notification_queue_usage",
    "get_row_counts",
    "list_secret_counts",
    "get_migration_lock",
    "count_legacy_user_secrets",
    "count_legacy_account_secrets",
    "count_legacy_key_secrets",
    "count_legacy_connector_secrets",
}

_BLOCK = re.compile(r"^-- name: (?P<header>.+)$", re.MULTILINE)
_HEADER = re.compile(r"^(?P<name>\w+)(?:\((?P<params>[^)]*)\))?(?P<op>[$^!#]?)$")


class SqlQuery(msgspec.Struct, frozen=True):
    name: str
    params: tuple[str, ...]
    doc: str
    body: str


def parse_queries(text: str) -> list[SqlQuery]:
    """The ``-- name:`` blocks of a query file: header, doc comment, SQL."""
    starts = list(_BLOCK.finditer(text))
    parsed = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        header = _HEADER.match(match["header"].strip())
        assert header is not None, f"malformed header: {match['header']}"
        block = text[match.end() : following.start() if following else len(text)]
        lines = block.strip().splitlines()
        doc = " ".join(line[2:].strip() for line in lines if line.startswith("--"))
        body = "\n".join(line for line in lines if not line.startswith("--"))
        params = tuple(p.strip() for p in (header["params"] or "").split(",") if p.strip())
        parsed.append(SqlQuery(header["name"], params, doc, body))
    return parsed


def scoping_problem(query: SqlQuery) -> str | None:
    """Why ``query`` breaks the scoping rule, or None if it keeps it."""
    if "user_id" in query.params:
        if query.params[0] != "user_id":
            return "declares user_id, but not first"
        where = query.body.split("WHERE", 1)
        in_where = len(where) == 2 and ":user_id" in where[1]
        in_insert = re.search(r"\bINSERT INTO\b", query.body) is not None
        if not (in_where or in_insert):
            return "declares user_id but does not filter or insert by it"
        return None
    if query.doc.startswith(UNSCOPED_MARKERS):
        return None
    return "takes no user_id and is not marked Unscoped (authentication entry point/maintenance)"


def all_queries() -> list[SqlQuery]:
    return [
        q for path in sorted(QUERIES_DIR.glob("*.sql")) for q in parse_queries(path.read_text())
    ]


def test_the_scoping_check_catches_an_unscoped_query() -> None:
    leaky = parse_queries(
        "-- name: get_task(task_id)^\n-- Get a task.\nSELECT id FROM tasks WHERE id = :task_id;\n"
    )
    unused = parse_queries(
        "-- name: get_task(user_id, task_id)^\n-- Get.\n"
        "SELECT :user_id, id FROM tasks WHERE id = :task_id;\n"
    )
    assert scoping_problem(leaky[0]) is not None
    assert scoping_problem(unused[0]) is not None


def test_every_query_is_scoped_by_user_id_or_marked_as_an_exception() -> None:
    found = all_queries()
    assert len(found) > 50
    problems = {q.name: problem for q in found if (problem := scoping_problem(q)) is not None}
    assert problems == {}
    unscoped = {q.name for q in found if "user_id" not in q.params}
    assert unscoped == EXPECTED_UNSCOPED


@pytest.mark.parametrize("folder", [QUERIES_DIR, Path(__file__).parent / "queries"])
def test_every_query_has_a_doc_and_a_name_unique_across_its_folder(folder: Path) -> None:
    # aiosql keeps the last of two same-named queries of a folder, silently.
    found = [q for path in sorted(folder.glob("*.sql")) for q in parse_queries(path.read_text())]
    assert found
    assert all(q.doc for q in found)
    names = [q.name for q in found]
    assert sorted(names) == sorted(set(names))


def test_queries_named_as_reads_only_read() -> None:
    # They are retried once after a lost connection (sql.run_statement): a
    # write or a lock among them would run twice.
    reads = [q for q in all_queries() if is_read(q.name)]
    assert len(reads) > 20
    locking = {q.name for q in all_queries() if re.search(r"\bFOR( NO KEY)? UPDATE\b", q.body)}
    assert {name for name in locking if name.startswith(READ_PREFIXES)} == LOCKING_READS
    for query in reads:
        body = query.body.upper()
        assert body.lstrip().startswith(("SELECT", "WITH")), query.name
        assert not re.search(r"\b(INSERT|UPDATE|DELETE|FOR SHARE|FOR UPDATE|LOCK)\b", body), (
            query.name
        )


def test_no_query_selects_star_or_holds_ddl() -> None:
    for query in all_queries():
        body = query.body.upper()
        assert "SELECT *" not in body, query.name
        assert not re.search(r"\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|VIEW)\b", body), query.name


async def test_every_query_prepares_against_the_migrated_schema(conn: cadb.Connection) -> None:
    for name in queries.available_queries:
        if name.endswith("_cursor"):
            continue
        await conn.prepare(getattr(queries, name).sql)


def test_every_query_is_called_from_the_package_and_every_call_exists() -> None:
    source = "\n".join(path.read_text() for path in SRC_DIR.glob("*.py"))
    defined = {q.name for q in all_queries()}
    called = set(re.findall(r"queries\.(\w+)\b", source))
    named = {name for name in defined if f'"{name}"' in source}  # dispatched by name (rotation)
    assert called - defined == set()
    assert defined - called - named == set()


# Row-returning queries and the model each row becomes.
ROW_MODELS: dict[str, type[msgspec.Struct]] = {
    "get_user": cadb.User,
    "create_user": cadb.User,
    "update_user_sign_in": cadb.User,
    "update_user_last_login": cadb.User,
    "authenticate_api_token": cadb.User,
    "upsert_account": cadb.Account,
    "get_account": cadb.Account,
    "create_task": cadb.Task,
    "get_task": cadb.Task,
    "list_tasks": cadb.TaskSummary,
    "create_user_message": cadb.TaskMessage,
    "create_agent_message": cadb.TaskMessage,
    "list_task_messages": cadb.TaskMessage,
    "get_agent_message": cadb.TaskMessage,
    "lock_agent_message": cadb.TaskMessage,
    "complete_agent_message": cadb.TaskMessage,
    "get_setting": cadb.Setting,
    "list_settings": cadb.Setting,
    "upsert_setting": cadb.Setting,
    "create_api_token": cadb.ApiToken,
    "list_api_tokens": cadb.ApiToken,
    "rename_api_token": cadb.ApiToken,
    "get_row_counts": status.RowCounts,
    "get_migration_lock": status.MigrationLock,
}


@pytest.mark.parametrize("name", sorted(ROW_MODELS))
async def test_select_lists_match_their_models(conn: cadb.Connection, name: str) -> None:
    statement = await conn.prepare(getattr(queries, name).sql)
    columns = [attribute.name for attribute in statement.get_attributes()]
    assert columns == list(ROW_MODELS[name].__struct_fields__)


# CHECK constraint -> the Literal the models use for that column.
ENUM_CHECKS: dict[str, Any] = {
    "users_provider_check": models.AuthProvider,
    "accounts_provider_check": models.AccountProvider,
    "keys_provider_check": models.KeyProvider,
    "tasks_selected_agent_check": models.SelectedAgent,
    "tasks_status_check": models.TaskStatus,
    "tasks_pr_status_check": models.PrStatus,
    "task_messages_role_check": models.MessageRole,
    "connectors_type_check": models.ConnectorType,
    "connectors_status_check": models.ConnectorStatus,
}


async def test_enum_literals_are_the_check_constraints_values(conn: cadb.Connection) -> None:
    definitions = {
        row["name"]: row["definition"] async for row in checks.list_check_constraints(conn)
    }
    for name, literal in ENUM_CHECKS.items():
        values = frozenset(re.findall(r"'([^']*)'::text", definitions[name]))
        assert values == models.literal_values(literal), name


EXPECTED_COLUMNS = {
    "users": "id provider external_id access_token refresh_token scope username email name "
    "avatar_url created_at updated_at last_login_at",
    "accounts": "id user_id provider external_user_id access_token refresh_token expires_at "
    "scope username created_at updated_at",
    "keys": "id user_id provider value created_at updated_at",
    "tasks": "id user_id prompt title repo_url selected_agent selected_model install_dependencies "
    "max_duration keep_alive enable_browser status progress logs error branch_name source_branch "
    "sandbox_id agent_session_id sandbox_url preview_url pr_url pr_number pr_status "
    "pr_merge_commit_sha mcp_server_ids sub_agent_activity current_sub_agent last_heartbeat "
    "created_at updated_at completed_at deleted_at logs_offset",
    "task_messages": "id task_id user_id role content created_at completed_at",
    "connectors": "id user_id name description type base_url oauth_client_id oauth_client_secret "
    "command env status created_at updated_at",
    "settings": "id user_id key value created_at updated_at",
    "api_tokens": "id user_id name token_hash token_prefix last_used_at expires_at created_at "
    "updated_at",
}


async def test_every_table_has_the_platform_columns(conn: cadb.Connection) -> None:
    columns: dict[str, list[str]] = {}
    types: dict[str, str] = {}
    async for row in checks.list_columns(conn):
        columns.setdefault(row["table_name"], []).append(row["column_name"])
        types[f"{row['table_name']}.{row['column_name']}"] = row["data_type"]
    for table, expected in EXPECTED_COLUMNS.items():
        assert columns[table] == expected.split(), table
    timestamps = {column for column, kind in types.items() if column.endswith("_at")}
    assert timestamps
    assert all(types[column] == "timestamp with time zone" for column in timestamps)
