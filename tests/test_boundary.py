"""The boundary: every public function checks its arguments before any SQL.

One case per finding of issue #10 ("Why"): ids a stranger controls (NUL, lone
surrogates, wrong types), enum fields with lone surrogates, integers beyond
their column, bytes where text is expected, arguments of the wrong Python
type, and a database the migrations have not (all) reached.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeAlias

import asyncpg
import pytest
from yoyo import get_backend, read_migrations

import coding_agent_db as cadb
from coding_agent_db.boundary import is_checked
from coding_agent_db.migrate import _psycopg_url
from coding_agent_db.paths import MIGRATIONS_DIR
from tests.conftest import FreshDatabase, checks, recorded_queries

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"

HOSTILE_IDS = ["a\x00", "ab\ud800", "\udfff", "x" * 10_000, ""]


async def task_of(user: cadb.User, conn: cadb.Connection) -> cadb.Task:
    return await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)


# ---------------------------------------------------------------- the contract


def public_functions() -> list[tuple[str, Callable[..., Any]]]:
    return [
        (name, value) for name in cadb.__all__ if inspect.isfunction(value := getattr(cadb, name))
    ]


def test_every_public_function_goes_through_the_boundary() -> None:
    functions = public_functions()
    assert len(functions) > 60
    assert [name for name, function in functions if not is_checked(function)] == []


def test_a_function_without_the_boundary_is_caught() -> None:
    async def get_thing(*, user_id: str) -> None:
        """Not decorated."""

    assert not is_checked(get_thing)


# ---------------------------------------------------------------- ids a stranger controls


@pytest.mark.parametrize("task_id", HOSTILE_IDS, ids=repr)
async def test_a_task_id_that_cannot_exist_is_a_missing_task_without_a_query(
    conn: cadb.Connection, user: cadb.User, task_id: str
) -> None:
    async with recorded_queries(conn) as sent:
        assert await cadb.get_task(user_id=user.id, task_id=task_id, conn=conn) is None
        assert await cadb.get_task_logs(user_id=user.id, task_id=task_id, conn=conn) is None
        assert await cadb.list_task_messages(user_id=user.id, task_id=task_id, conn=conn) == []
        with pytest.raises(cadb.NotFoundError):
            await cadb.delete_task(user_id=user.id, task_id=task_id, conn=conn)
        with pytest.raises(cadb.NotFoundError):
            await cadb.update_task_title(user_id=user.id, task_id=task_id, title="t", conn=conn)
        with pytest.raises(cadb.NotFoundError):
            await cadb.create_user_message(user_id=user.id, task_id=task_id, content="c", conn=conn)
    assert sent == []


@pytest.mark.parametrize("user_id", HOSTILE_IDS, ids=repr)
async def test_a_user_id_that_cannot_exist_is_a_missing_user_without_a_query(
    conn: cadb.Connection, user_id: str
) -> None:
    async with recorded_queries(conn) as sent:
        assert await cadb.get_user(user_id=user_id, conn=conn) is None
        assert await cadb.list_tasks(user_id=user_id, conn=conn) == []
        with pytest.raises(cadb.NotFoundError):
            await cadb.link_account(
                user_id=user_id,
                account=cadb.NewAccount(external_user_id="1", access_token="t", username="u"),
                conn=conn,
            )
        with pytest.raises(cadb.NotFoundError):
            await cadb.create_task(user_id=user_id, task=cadb.NewTask(prompt="p"), conn=conn)
        with pytest.raises(cadb.NotFoundError):
            await cadb.check_rate_limit(user_id=user_id, conn=conn)
    assert sent == []


@pytest.mark.parametrize("user_id", [123, None, b"abc", 1.5, ["a"], {"id": "a"}], ids=repr)
async def test_a_user_id_of_the_wrong_type_is_a_validation_error_naming_it(
    conn: cadb.Connection, user_id: Any
) -> None:
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as raised:
            await cadb.get_task(user_id=user_id, task_id="t", conn=conn)
    assert raised.value.field == "user_id"
    assert sent == []


async def test_a_setting_key_that_cannot_exist_is_a_missing_setting(
    conn: cadb.Connection, user: cadb.User
) -> None:
    async with recorded_queries(conn) as sent:
        assert await cadb.get_setting(user_id=user.id, key="a\x00", conn=conn) is None
        with pytest.raises(cadb.NotFoundError):
            await cadb.delete_setting(user_id=user.id, key="k\ud800", conn=conn)
    assert sent == []


# ---------------------------------------------------------------- enum fields


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda u, t, c: cadb.create_task(
                user_id=u,
                task=cadb.NewTask(prompt="p", selected_agent="a\ud800"),  # type: ignore[arg-type]
                conn=c,
            ),
            "selected_agent",
        ),
        (
            lambda u, t, c: cadb.create_connector(
                user_id=u,
                connector=cadb.NewConnector(name="n", type="a\ud800", base_url="https://x.y"),  # type: ignore[arg-type]
                conn=c,
            ),
            "type",
        ),
        (
            lambda u, t, c: cadb.update_task_pull_request(
                user_id=u,
                task_id=t,
                pr_status="a\ud800",  # type: ignore[arg-type]
                conn=c,
            ),
            "pr_status",
        ),
        (
            lambda u, t, c: cadb.set_key(
                user_id=u,
                provider="a\ud800",  # type: ignore[arg-type]
                value="v",
                conn=c,
            ),
            "provider",
        ),
        (
            lambda u, t, c: cadb.update_task_sub_agents(
                user_id=u,
                task_id=t,
                sub_agent_activity=[cadb.SubAgentActivity(id="s", name="n", status="a\ud800")],  # type: ignore[arg-type]
                current_sub_agent=None,
                conn=c,
            ),
            "sub_agent_activity[0].status",
        ),
    ],
    ids=["selected_agent", "connector type", "pr_status", "key provider", "sub-agent status"],
)
async def test_a_lone_surrogate_in_an_enum_field_is_a_validation_error(
    conn: cadb.Connection,
    user: cadb.User,
    call: Callable[[str, str, cadb.Connection], Awaitable[object]],
    field: str,
) -> None:
    task = await task_of(user, conn)
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as raised:
            await call(user.id, task.id, conn)
    assert raised.value.field == field
    assert sent == []


# ---------------------------------------------------------------- integers, bytes, types


@pytest.mark.parametrize("pr_number", [2**31, 2**63, 2**100, 0, -1, True], ids=repr)
async def test_a_pull_request_number_beyond_its_column_is_refused(
    conn: cadb.Connection, user: cadb.User, pr_number: int
) -> None:
    task = await task_of(user, conn)
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as raised:
            await cadb.update_task_pull_request(
                user_id=user.id, task_id=task.id, pr_number=pr_number, conn=conn
            )
    assert raised.value.field == "pr_number"
    assert sent == []


async def test_bytes_are_not_stored_as_base64_text(conn: cadb.Connection, user: cadb.User) -> None:
    before = await checks.count_rows(conn, user_id=user.id)
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.create_task(
            user_id=user.id,
            task=cadb.NewTask(prompt=b"fix the bug"),  # type: ignore[arg-type]
            conn=conn,
        )
    assert raised.value.field == "prompt"
    task = await task_of(user, conn)
    usage = await cadb.check_rate_limit(user_id=user.id, conn=conn)
    with pytest.raises(cadb.ValidationError) as raised:
        await cadb.create_user_message(
            user_id=user.id,
            task_id=task.id,
            content=b"hello",  # type: ignore[arg-type]
            conn=conn,
        )
    assert raised.value.field == "content"
    assert await cadb.check_rate_limit(user_id=user.id, conn=conn) == usage
    assert dict(await checks.count_rows(conn, user_id=user.id)) == {
        **dict(before),
        "tasks": before["tasks"] + 1,  # the task the message was refused on
        "task_messages": before["task_messages"] + 1,  # and its prompt message
    }


WRONG_TYPES: list[tuple[str, Callable[[str, str, cadb.Connection], Awaitable[object]], str]] = [
    ("task=dict", lambda u, t, c: cadb.create_task(user_id=u, task=dict, conn=c), "task"),  # type: ignore[arg-type]
    (
        "task=a dict",
        lambda u, t, c: cadb.create_task(
            user_id=u,
            task={"prompt": "p"},  # type: ignore[arg-type]
            conn=c,
        ),
        "task",
    ),
    ("task=None", lambda u, t, c: cadb.create_task(user_id=u, task=None, conn=c), "task"),  # type: ignore[arg-type]
    (
        "mcp_server_ids=None",
        lambda u, t, c: cadb.update_task_mcp_servers(
            user_id=u,
            task_id=t,
            mcp_server_ids=None,  # type: ignore[arg-type]
            conn=c,
        ),
        "mcp_server_ids",
    ),
    (
        "mcp_server_ids=str",
        lambda u, t, c: cadb.update_task_mcp_servers(
            user_id=u, task_id=t, mcp_server_ids="abc", conn=c
        ),
        "mcp_server_ids",
    ),
    (
        "entries=None",
        lambda u, t, c: cadb.append_task_logs(
            user_id=u,
            task_id=t,
            entries=None,  # type: ignore[arg-type]
            conn=c,
        ),
        "entries",
    ),
    (
        "entry=dict",
        lambda u, t, c: cadb.append_task_log(
            user_id=u,
            task_id=t,
            entry={"type": "info", "message": "m"},  # type: ignore[arg-type]
            conn=c,
        ),
        "entry",
    ),
    (
        "after='3'",
        lambda u, t, c: cadb.get_task_logs(
            user_id=u,
            task_id=t,
            after="3",  # type: ignore[arg-type]
            conn=c,
        ),
        "after",
    ),
    ("limit='5'", lambda u, t, c: cadb.list_tasks(user_id=u, limit="5", conn=c), "limit"),  # type: ignore[arg-type]
    ("limit=1.0", lambda u, t, c: cadb.list_tasks(user_id=u, limit=1.0, conn=c), "limit"),  # type: ignore[arg-type]
    (
        "older_than=-1",
        lambda u, t, c: cadb.purge_deleted_tasks(
            older_than=-1,  # type: ignore[arg-type]
            conn=c,
        ),
        "older_than",
    ),
    (
        "older_than=negative",
        lambda u, t, c: cadb.purge_deleted_tasks(older_than=timedelta(days=-1), conn=c),
        "older_than",
    ),
    (
        "older_than=huge",
        lambda u, t, c: cadb.purge_deleted_tasks(older_than=timedelta(days=999_999_999), conn=c),
        "older_than",
    ),
    ("before=str", lambda u, t, c: cadb.list_tasks(user_id=u, before="x", conn=c), "before"),  # type: ignore[arg-type]
    (
        "status=1",
        lambda u, t, c: cadb.update_task_status(
            user_id=u,
            task_id=t,
            status=1,  # type: ignore[arg-type]
            conn=c,
        ),
        "status",
    ),
    (
        "progress='5'",
        lambda u, t, c: cadb.update_task_status(
            user_id=u,
            task_id=t,
            status="processing",
            progress="5",  # type: ignore[arg-type]
            conn=c,
        ),
        "progress",
    ),
    (
        "delta=bytes",
        lambda u, t, c: cadb.append_agent_message(
            user_id=u,
            message_id=t,
            delta=b"x",  # type: ignore[arg-type]
            conn=c,
        ),
        "delta",
    ),
    ("conn=str", lambda u, t, c: cadb.get_task(user_id=u, task_id=t, conn="db"), "conn"),  # type: ignore[arg-type]
    ("batch_size='5'", lambda u, t, c: cadb.rotate_keys(batch_size="5", conn=c), "batch_size"),  # type: ignore[arg-type]
    ("on_progress=1", lambda u, t, c: cadb.rotate_keys(on_progress=1, conn=c), "on_progress"),  # type: ignore[arg-type]
    (
        "expires_at=str",
        lambda u, t, c: cadb.create_api_token(
            user_id=u,
            name="n",
            expires_at="2030-01-01",  # type: ignore[arg-type]
            conn=c,
        ),
        "expires_at",
    ),
    ("identity=dict", lambda u, t, c: cadb.upsert_user({"provider": "github"}, conn=c), "identity"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("case", "call", "field"), WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES])
async def test_an_argument_of_the_wrong_type_is_a_validation_error_naming_it(
    conn: cadb.Connection,
    user: cadb.User,
    case: str,
    call: Callable[[str, str, cadb.Connection], Awaitable[object]],
    field: str,
) -> None:
    task = await task_of(user, conn)
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as raised:
            await call(user.id, task.id, conn)
    assert raised.value.field == field
    assert sent == []


# ---------------------------------------------------------------- a database behind the code


@pytest.fixture
async def unmigrated_pool(fresh_database: FreshDatabase) -> AsyncIterator[Pool]:
    pool = await cadb.create_pool(fresh_database(migrated=False))
    try:
        yield pool
    finally:
        await pool.close()


def migrate_until(url: str, first_missing: str) -> None:
    """Apply the migrations that sort before ``first_missing`` (yoyo's own API)."""
    backend = get_backend(_psycopg_url(url), migration_table="_yoyo_migration")
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        backend.apply_migrations(
            backend.to_apply(migrations.filter(lambda m: m.id < first_missing))
        )


async def test_an_unmigrated_database_names_the_missing_migration_and_the_command(
    unmigrated_pool: Pool,
) -> None:
    with pytest.raises(cadb.SchemaNotMigratedError) as raised:
        await cadb.get_user(user_id="someone", conn=unmigrated_pool)
    message = str(raised.value)
    assert raised.value.migration == "0001.create-users"
    assert "0001.create-users" in message
    assert "coding-agent-db migrate" in message
    assert "yoyo apply" in message
    assert isinstance(raised.value.__cause__, asyncpg.UndefinedTableError)


@pytest.mark.parametrize(
    ("first_missing", "call"),
    [
        ("0009", lambda pool: cadb.check_rate_limit(user_id="someone", conn=pool)),
        (
            "0010",
            lambda pool: cadb.create_task(
                user_id="someone", task=cadb.NewTask(prompt="p"), conn=pool
            ),
        ),
        ("0030", lambda pool: cadb.list_task_messages(user_id="someone", task_id="t", conn=pool)),
    ],
    ids=["view", "function", "column"],
)
async def test_a_database_behind_the_code_names_the_first_missing_migration(
    fresh_database: FreshDatabase,
    first_missing: str,
    call: Callable[[Pool], Awaitable[object]],
) -> None:
    url = fresh_database(migrated=False)
    migrate_until(url, first_missing)
    pool = await cadb.create_pool(url)
    try:
        with pytest.raises(cadb.SchemaNotMigratedError) as raised:
            await call(pool)
    finally:
        await pool.close()
    assert raised.value.migration.startswith(first_missing)
    assert "coding-agent-db migrate" in str(raised.value)
