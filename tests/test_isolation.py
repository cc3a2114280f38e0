"""Isolation: another user's task, message or connector id behaves exactly like a missing id.

For every function that takes such an id, user B passing user A's id gets what a
missing id gets (None or an empty list for lookups, NotFoundError for mutations,
the same exception type and message), and nothing of A's changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

import coding_agent_db as cadb
from coding_agent_db.ids import new_id
from tests.conftest import MakeUser, checks

Kind = Literal["task", "message", "connector"]


@dataclass(frozen=True)
class World:
    """User A's rows, and user B (the intruder) with rows of their own."""

    owner: cadb.User
    task_id: str
    message_id: str
    connector_id: str
    intruder: cadb.User
    intruder_task_id: str
    intruder_connector_id: str

    def target(self, kind: Kind) -> str:
        return {"task": self.task_id, "message": self.message_id, "connector": self.connector_id}[
            kind
        ]


@pytest.fixture
async def world(conn: cadb.Connection, make_user: MakeUser) -> World:
    owner = await make_user()
    intruder = await make_user()
    await cadb.set_setting(user_id=owner.id, key="maxMessagesPerDay", value="100", conn=conn)
    connector = await cadb.create_connector(
        user_id=owner.id,
        connector=cadb.NewConnector(
            name="owner's server",
            type="local",
            command="npx owner-server",
            env={"OWNER_TOKEN": "owner-secret-0123456789"},
        ),
        conn=conn,
    )
    task = await cadb.create_task(
        user_id=owner.id,
        task=cadb.NewTask(prompt="owner's task", mcp_server_ids=[connector.id]),
        conn=conn,
    )
    await cadb.append_task_log(
        user_id=owner.id,
        task_id=task.id,
        entry=cadb.LogEntry(type="info", message="owner's log"),
        conn=conn,
    )
    await cadb.create_user_message(user_id=owner.id, task_id=task.id, content="hi", conn=conn)
    reply = await cadb.start_agent_message(user_id=owner.id, task_id=task.id, conn=conn)
    await cadb.append_agent_message(
        user_id=owner.id, message_id=reply.id, delta="owner's reply", conn=conn
    )
    intruder_connector = await cadb.create_connector(
        user_id=intruder.id,
        connector=cadb.NewConnector(name="intruder's server", base_url="https://evil.example"),
        conn=conn,
    )
    intruder_task = await cadb.create_task(
        user_id=intruder.id, task=cadb.NewTask(prompt="intruder's task"), conn=conn
    )
    return World(
        owner=owner,
        task_id=task.id,
        message_id=reply.id,
        connector_id=connector.id,
        intruder=intruder,
        intruder_task_id=intruder_task.id,
        intruder_connector_id=intruder_connector.id,
    )


async def snapshot(conn: cadb.Connection, world: World) -> dict[str, Any]:
    """Everything of both users that a call could change, raw and as the API shows it."""
    owner, intruder = world.owner.id, world.intruder.id
    launch = await cadb.get_connector_launch(
        user_id=owner, connector_id=world.connector_id, conn=conn
    )
    assert launch is not None
    return {
        "task row": await checks.get_raw_task_text(conn, task_id=world.task_id),
        "message rows": await checks.get_raw_task_messages_text(conn, task_id=world.task_id),
        "connector row": await checks.get_raw_connector_text(conn, connector_id=world.connector_id),
        "task": await cadb.get_task(user_id=owner, task_id=world.task_id, conn=conn),
        "messages": await cadb.list_task_messages(user_id=owner, task_id=world.task_id, conn=conn),
        "connector": await cadb.get_connector(
            user_id=owner, connector_id=world.connector_id, conn=conn
        ),
        "launch": (launch.env, launch.oauth_client_secret, launch.command),
        "owner rows": dict(await checks.count_rows(conn, user_id=owner)),
        "intruder rows": dict(await checks.count_rows(conn, user_id=intruder)),
        "intruder task row": await checks.get_raw_task_text(conn, task_id=world.intruder_task_id),
        "intruder connector row": await checks.get_raw_connector_text(
            conn, connector_id=world.intruder_connector_id
        ),
    }


Call = Callable[[str, str, World, cadb.Connection], Awaitable[object]]
"""A call as ``user_id`` on the id ``target``."""


@dataclass(frozen=True)
class Case:
    name: str
    kind: Kind
    call: Call
    missing: object
    """What the call gives for a missing id: a return value, or an exception type."""


def log_entry() -> cadb.LogEntry:
    return cadb.LogEntry(type="info", message="intruder's log")


CASES = [
    # lookups
    Case(
        "get_task",
        "task",
        lambda u, t, w, c: cadb.get_task(user_id=u, task_id=t, conn=c),
        None,
    ),
    Case(
        "get_task_logs",
        "task",
        lambda u, t, w, c: cadb.get_task_logs(user_id=u, task_id=t, conn=c),
        None,
    ),
    Case(
        "list_task_messages",
        "task",
        lambda u, t, w, c: cadb.list_task_messages(user_id=u, task_id=t, conn=c),
        [],
    ),
    Case(
        "get_connector",
        "connector",
        lambda u, t, w, c: cadb.get_connector(user_id=u, connector_id=t, conn=c),
        None,
    ),
    Case(
        "get_connector_launch",
        "connector",
        lambda u, t, w, c: cadb.get_connector_launch(user_id=u, connector_id=t, conn=c),
        None,
    ),
    # task mutations
    Case(
        "append_task_log",
        "task",
        lambda u, t, w, c: cadb.append_task_log(user_id=u, task_id=t, entry=log_entry(), conn=c),
        cadb.NotFoundError,
    ),
    Case(
        "append_task_logs",
        "task",
        lambda u, t, w, c: cadb.append_task_logs(
            user_id=u, task_id=t, entries=[log_entry(), log_entry()], conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_status",
        "task",
        lambda u, t, w, c: cadb.update_task_status(
            user_id=u, task_id=t, status="stopped", progress=100, error="stopped by B", conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_title",
        "task",
        lambda u, t, w, c: cadb.update_task_title(user_id=u, task_id=t, title="B's", conn=c),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_branch",
        "task",
        lambda u, t, w, c: cadb.update_task_branch(
            user_id=u, task_id=t, branch_name="b/branch", source_branch="b/main", conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_sandbox",
        "task",
        lambda u, t, w, c: cadb.update_task_sandbox(
            user_id=u,
            task_id=t,
            sandbox_id="sbx-b",
            sandbox_url="https://b.example",
            preview_url="https://b.example/preview",
            conn=c,
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_agent_session",
        "task",
        lambda u, t, w, c: cadb.update_task_agent_session(
            user_id=u, task_id=t, agent_session_id="session-b", conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_pull_request",
        "task",
        lambda u, t, w, c: cadb.update_task_pull_request(
            user_id=u,
            task_id=t,
            pr_url="https://github.com/b/repo/pull/1",
            pr_number=1,
            pr_status="merged",
            pr_merge_commit_sha="abcdef1",
            conn=c,
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_sub_agents",
        "task",
        lambda u, t, w, c: cadb.update_task_sub_agents(
            user_id=u,
            task_id=t,
            sub_agent_activity=[cadb.SubAgentActivity(id="b", name="b's agent")],
            current_sub_agent="b's agent",
            conn=c,
        ),
        cadb.NotFoundError,
    ),
    Case(
        "update_task_mcp_servers",
        "task",
        # B's own connector: the only thing wrong is whose task it is.
        lambda u, t, w, c: cadb.update_task_mcp_servers(
            user_id=u, task_id=t, mcp_server_ids=[w.intruder_connector_id], conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "touch_task_heartbeat",
        "task",
        lambda u, t, w, c: cadb.touch_task_heartbeat(user_id=u, task_id=t, conn=c),
        cadb.NotFoundError,
    ),
    Case(
        "delete_task",
        "task",
        lambda u, t, w, c: cadb.delete_task(user_id=u, task_id=t, conn=c),
        cadb.NotFoundError,
    ),
    # message mutations
    Case(
        "create_user_message",
        "task",
        lambda u, t, w, c: cadb.create_user_message(
            user_id=u, task_id=t, content="B's message", conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "start_agent_message",
        "task",
        lambda u, t, w, c: cadb.start_agent_message(user_id=u, task_id=t, conn=c),
        cadb.NotFoundError,
    ),
    Case(
        "append_agent_message",
        "message",
        lambda u, t, w, c: cadb.append_agent_message(
            user_id=u, message_id=t, delta=" and B's words", conn=c
        ),
        cadb.NotFoundError,
    ),
    # connector mutations
    Case(
        "update_connector",
        "connector",
        lambda u, t, w, c: cadb.update_connector(
            user_id=u,
            connector_id=t,
            connector=cadb.NewConnector(
                name="taken over", base_url="https://evil.example", env={"X": "y"}
            ),
            conn=c,
        ),
        cadb.NotFoundError,
    ),
    Case(
        "set_connector_status",
        "connector",
        lambda u, t, w, c: cadb.set_connector_status(
            user_id=u, connector_id=t, status="connected", conn=c
        ),
        cadb.NotFoundError,
    ),
    Case(
        "delete_connector",
        "connector",
        lambda u, t, w, c: cadb.delete_connector(user_id=u, connector_id=t, conn=c),
        cadb.NotFoundError,
    ),
]


Outcome = tuple[str, object, str]


async def outcome(call: Awaitable[object]) -> Outcome:
    """What a call did: ("returned", value, "") or ("raised", exception type, message)."""
    try:
        value = await call
    except cadb.CodingAgentDbError as exc:
        return ("raised", type(exc), str(exc))
    return ("returned", value, "")


def expected(case: Case) -> Outcome:
    if isinstance(case.missing, type):
        return ("raised", case.missing, "")
    return ("returned", case.missing, "")


def test_every_id_taking_function_is_covered() -> None:
    covered = {case.name for case in CASES}
    assert len(covered) == len(CASES)
    assert covered == {
        "get_task",
        "get_task_logs",
        "list_task_messages",
        "append_task_log",
        "append_task_logs",
        "update_task_status",
        "update_task_title",
        "update_task_branch",
        "update_task_sandbox",
        "update_task_agent_session",
        "update_task_pull_request",
        "update_task_sub_agents",
        "update_task_mcp_servers",
        "touch_task_heartbeat",
        "delete_task",
        "create_user_message",
        "start_agent_message",
        "append_agent_message",
        "get_connector",
        "get_connector_launch",
        "update_connector",
        "set_connector_status",
        "delete_connector",
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_another_users_id_behaves_like_a_missing_id(
    conn: cadb.Connection, world: World, case: Case
) -> None:
    before = await snapshot(conn, world)

    foreign = await outcome(case.call(world.intruder.id, world.target(case.kind), world, conn))
    missing = await outcome(case.call(world.intruder.id, new_id(), world, conn))

    assert foreign == missing
    kind, value, _message = foreign
    assert (kind, value) == expected(case)[:2]
    assert await snapshot(conn, world) == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_the_owner_reaches_the_same_id(
    conn: cadb.Connection, world: World, case: Case
) -> None:
    """The ids are live: what the intruder is refused, the owner gets."""
    if case.name == "update_task_mcp_servers":
        result = await outcome(
            cadb.update_task_mcp_servers(
                user_id=world.owner.id,
                task_id=world.task_id,
                mcp_server_ids=[world.connector_id],
                conn=conn,
            )
        )
    else:
        result = await outcome(case.call(world.owner.id, world.target(case.kind), world, conn))
    assert result[0] == "returned"
    if not isinstance(case.missing, type):
        assert result[1] not in (None, [])
