"""Every parameter of every public function, fed generated hostile values.

For each function of ``coding_agent_db.__all__`` and each of its parameters,
hypothesis draws values a stranger could send (NUL, lone surrogates, bytes,
huge and negative integers, floats, wrong types, containers, naive and
out-of-range datetimes, very long text) while the other arguments are valid
and name real rows of one user. Each call may succeed (the value was
acceptable) or raise one of the package's documented errors; when it raises,
no row of the user (nor the number of users) has changed. Nothing from
asyncpg, PostgreSQL or the codecs may come out.

Each call runs in a savepoint rolled back afterwards, so accepted values leave
nothing behind. The test is synchronous and drives its own event loop, so
hypothesis can call into it example by example.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coding_agent_db as cadb
from tests.conftest import checks

DOCUMENTED_ERRORS = (
    cadb.ValidationError,
    cadb.NotFoundError,
    cadb.InvalidTransitionError,
    cadb.LimitExceededError,
    cadb.RateLimitExceededError,
    cadb.DecryptionError,
)

EXAMPLES_PER_PARAMETER = 40

EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**40,
    1.5,
    float("nan"),
    float("inf"),
    b"",
    b"abc",
    b"\xff\xfe",
    bytearray(b"x"),
    memoryview(b"x"),
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "ab\udfff",
    "\x1b[31m",
    "x" * 100_001,
    [],
    [None],
    ["\x00"],
    [b"x"],
    ("a",),
    {},
    {"a": 1},
    {"\x00": "x"},
    {b"k": "v"},
    object(),
    timedelta(days=-1),
    timedelta.max,
    datetime(2030, 1, 1),  # naive
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
    datetime(1, 1, 1, tzinfo=UTC),
]

HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.text(st.sampled_from(["\x00", "\ud800", "\udc00", "a", "\x1b", "é", "😀"]), max_size=10),
    st.binary(max_size=20),
    st.integers(),
    st.floats(),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.text(max_size=5)), max_size=2),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=13)))),
    st.timedeltas(),
)


class World:
    """One user's rows, created in a transaction the test rolls back."""

    def __init__(self, conn: cadb.Connection) -> None:
        self.conn = conn

    async def build(self) -> None:
        conn = self.conn
        self.user = await cadb.upsert_user(
            cadb.NewUser(
                provider="github", external_id="hostile-1", access_token="t", username="u"
            ),
            conn=conn,
        )
        uid = self.user.id
        await cadb.set_setting(user_id=uid, key="maxMessagesPerDay", value="100000", conn=conn)
        await cadb.set_setting(user_id=uid, key="theme", value="dark", conn=conn)
        await cadb.set_key(user_id=uid, provider="anthropic", value="sk-ant-0123456789", conn=conn)
        await cadb.link_account(
            user_id=uid,
            account=cadb.NewAccount(external_user_id="hostile-2", access_token="a", username="u"),
            conn=conn,
        )
        self.connector = await cadb.create_connector(
            user_id=uid,
            connector=cadb.NewConnector(name="n", base_url="https://mcp.example"),
            conn=conn,
        )
        self.task = await cadb.create_task(user_id=uid, task=cadb.NewTask(prompt="p"), conn=conn)
        self.reply = await cadb.start_agent_message(user_id=uid, task_id=self.task.id, conn=conn)
        self.sub_agent_id = await cadb.start_sub_agent(
            user_id=uid, task_id=self.task.id, name="explorer", conn=conn
        )
        self.token = await cadb.create_api_token(user_id=uid, name="ci", conn=conn)

    def valid(self, function: str, parameter: str) -> Any:
        """A valid value of ``parameter`` for ``function``, naming the world's rows."""
        by_function: dict[tuple[str, str], Any] = {
            ("get_user_by_provider", "provider"): "github",
            ("get_user_by_provider", "external_id"): "hostile-1",
            ("set_connector_status", "status"): "connected",
            ("update_task_status", "status"): "processing",
            ("set_key", "value"): "sk-ant-9876543210",
            ("set_setting", "value"): "light",
            ("get_account", "provider"): "github",
            ("get_account_tokens", "provider"): "github",
            ("unlink_account", "provider"): "github",
            ("update_sub_agent", "status"): "running",
            ("update_sub_agent", "description"): "looking around",
            ("update_task_progress", "message"): "half way",
        }
        if (function, parameter) in by_function:
            return by_function[function, parameter]
        by_name: dict[str, Any] = {
            "user_id": self.user.id,
            "task_id": self.task.id,
            "message_id": self.reply.id,
            "connector_id": self.connector.id,
            "token_id": self.token.token.id,
            "provider": "anthropic",
            "key": "theme",
            "external_user_id": "hostile-2",
            "content": "hello",
            "delta": "chunk",
            "title": "a title",
            "agent_session_id": "session-1",
            "name": "renamed",
            "raw": self.token.raw_token,
            "older_than": timedelta(days=30),
            "entry": cadb.LogEntry(type="info", message="m"),
            "entries": [cadb.LogEntry(type="info", message="m")],
            "mcp_server_ids": [self.connector.id],
            "sub_agent_activity": [cadb.SubAgentActivity(id="s1", name="explorer")],
            "current_sub_agent": None,
            "task": cadb.NewTask(prompt="another"),
            "connector": cadb.NewConnector(name="m", base_url="https://mcp2.example"),
            "identity": cadb.NewUser(
                provider="github", external_id="hostile-1", access_token="t", username="u"
            ),
            "account": cadb.NewAccount(
                external_user_id="hostile-2", access_token="b", username="u"
            ),
            "sub_agent_id": self.sub_agent_id,
            "progress": 50,
            "success": True,
            "parent_agent": "primary",
            "conn": self.conn,
        }
        return by_name[parameter]


def public_functions() -> list[str]:
    """The public functions that take arguments (close_pool, get_pool, connection take none)."""
    return [
        name
        for name in cadb.__all__
        if inspect.isfunction(getattr(cadb, name)) and parameters_of(name)
    ]


def parameters_of(name: str) -> list[inspect.Parameter]:
    return list(inspect.signature(getattr(cadb, name)).parameters.values())


def admits_none(parameter: inspect.Parameter) -> bool:
    return parameter.default is None


CASES: dict[tuple[str, str], int] = {}
"""(function, parameter) -> hostile values tried: the tally printed at the end."""


@pytest.fixture(scope="module", autouse=True)
def tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(CASES.values())
    functions = len({function for function, _ in CASES})
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhostile inputs: {total} (function, parameter, value) cases over "
                f"{len(CASES)} parameters of {functions} functions"
            )


async def call(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call a public function as a caller would: await it, or enter the context it returns."""
    result = function(**kwargs)
    if inspect.isawaitable(result):
        return await result
    if isinstance(result, contextlib.AbstractAsyncContextManager):
        async with result:
            return None
    return result


@pytest.mark.parametrize("name", public_functions())
def test_hostile_values_get_only_documented_errors_and_change_nothing(
    name: str, database_url: str
) -> None:
    function = getattr(cadb, name)
    parameters = parameters_of(name)
    loop = asyncio.new_event_loop()
    conn: asyncpg.Connection[asyncpg.Record] = loop.run_until_complete(
        asyncpg.connect(os.environ["POSTGRES_URL"], connection_class=cadb.pool._Connection)
    )
    outer = conn.transaction()
    try:
        loop.run_until_complete(cadb.pool._connection_init(cadb.pool.profile_of(conn))(conn))
        loop.run_until_complete(outer.start())
        world = World(conn)
        loop.run_until_complete(world.build())

        for parameter in parameters:
            hostile_case(name, function, parameter, parameters, world, loop)()
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(outer.rollback())
        loop.run_until_complete(conn.close())
        loop.run_until_complete(cadb.close_pool())
        loop.close()


def hostile_case(
    name: str,
    function: Callable[..., Any],
    parameter: inspect.Parameter,
    parameters: list[inspect.Parameter],
    world: World,
    loop: asyncio.AbstractEventLoop,
) -> Callable[[], None]:
    """The hypothesis test of one parameter: hostile values in it, valid ones elsewhere."""

    @settings(
        max_examples=EXAMPLES_PER_PARAMETER,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=HOSTILE)
    def case(value: Any) -> None:
        if value is None and admits_none(parameter):
            return  # None is this parameter's documented default
        kwargs = {
            p.name: world.valid(name, p.name)
            for p in parameters
            if p.default is inspect.Parameter.empty or p.name == "conn"
        }
        kwargs[parameter.name] = value
        key = (name, parameter.name)
        CASES[key] = CASES.get(key, 0) + 1
        loop.run_until_complete(check_one(function, kwargs, world))

    return case


async def check_one(function: Callable[..., Any], kwargs: dict[str, Any], world: World) -> None:
    conn = world.conn
    before = await checks.fingerprint_user_rows(conn, user_id=world.user.id)
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        try:
            await call(function, kwargs)
        except DOCUMENTED_ERRORS:
            try:
                after = await checks.fingerprint_user_rows(conn, user_id=world.user.id)
            except asyncpg.InFailedSQLTransactionError:
                # The refusal came from the server (e.g. a foreign key naming no
                # user), which aborted the caller's transaction: nothing it wrote stays.
                return
            assert after == before, "a refused call changed a row"
    finally:
        await savepoint.rollback()
