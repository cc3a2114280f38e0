"""Tasks: creation under the daily limit, the streamed log, updates, soft delete.

A task's log is appended with one ``UPDATE ... SET logs = logs || $entries``:
nothing is read first, so concurrent appends all land. ``tasks.logs`` holds
the open page of the log (its last 1 to 100 entries); a trigger seals full
pages into ``task_log_pages`` in the same statement (migration 0040), so an
append costs the same however long the log is. Reads join the pages back.

Every entry is redacted (see ``redact``), truncated to
``MAX_LOG_MESSAGE_LENGTH`` and cleaned of characters PostgreSQL cannot store
before it is stored: a log line never fails an agent run for being long or
containing raw bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from msgspec import Meta

from coding_agent_db.boundary import boundary
from coding_agent_db.errors import InvalidTransitionError, NotFoundError, ValidationError
from coding_agent_db.ids import new_id
from coding_agent_db.models import (
    AgentSource,
    CommitSha,
    GitRef,
    Id,
    LogEntry,
    LogType,
    LongText,
    MessageContent,
    NewTask,
    OptionalText,
    Percent,
    PrNumber,
    PrStatus,
    RowId,
    Shallow,
    SubAgentActivity,
    SubAgentDescription,
    SubAgentName,
    SubAgentStatus,
    Task,
    TaskChanges,
    TaskCursor,
    TaskMessage,
    TaskStatus,
    TaskSummary,
    Url,
    UserId,
    Within,
    convert,
    from_row,
    literal_values,
    read_documents,
    storable_text,
)
from coding_agent_db.pool import Conn, db, transaction
from coding_agent_db.rate_limit import limit_exceeded, limit_parameters
from coding_agent_db.redact import redact
from coding_agent_db.sql import queries

__all__ = [
    "MAX_LOG_MESSAGE_LENGTH",
    "append_task_log",
    "append_task_logs",
    "clear_task_logs",
    "complete_sub_agent",
    "continue_task",
    "create_task",
    "delete_task",
    "get_task",
    "get_task_logs",
    "list_tasks",
    "purge_deleted_tasks",
    "start_sub_agent",
    "touch_task_heartbeat",
    "update_sub_agent",
    "update_task_agent_session",
    "update_task_branch",
    "update_task_mcp_servers",
    "update_task_progress",
    "update_task_pull_request",
    "update_task_sandbox",
    "update_task_status",
    "update_task_sub_agents",
    "update_task_title",
]

MAX_LOG_MESSAGE_LENGTH = 2000
MAX_PAGE_SIZE = 100
_MAX_INDEX = 2**31 - 1  # jsonpath subscripts are integers; no log is that long
MAX_PURGE_AGE = timedelta(days=36_500)

_LOG_TYPES = literal_values(LogType)
FINAL_STATUSES = frozenset({"completed", "error", "stopped"})
"""The statuses a run ends in."""
_FIRST_PAGE = TaskCursor(created_at=datetime.max.replace(tzinfo=UTC), id="")


def truncate_log_message(message: str) -> str:
    """``message`` cut to ``MAX_LOG_MESSAGE_LENGTH`` characters, saying so at its end."""
    if len(message) <= MAX_LOG_MESSAGE_LENGTH:
        return message
    marker = f"... [truncated: {len(message)} characters in all]"
    return message[: MAX_LOG_MESSAGE_LENGTH - len(marker)] + marker


def _stored_entries(entries: Sequence[LogEntry]) -> list[LogEntry]:
    """The entries as they are stored: checked, cleaned, redacted, truncated, timestamped.

    Checked field by field rather than through ``validated()``: this runs for
    every log line of every agent, and the message is cleaned, not refused.
    """
    now = datetime.now(UTC)
    stored = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, LogEntry):
            raise ValidationError(f"entries[{index}]", "must be a LogEntry")
        if not isinstance(entry.type, str) or entry.type not in _LOG_TYPES:
            raise ValidationError(f"entries[{index}].type", "Invalid enum value")
        if not isinstance(entry.message, str):
            raise ValidationError(f"entries[{index}].message", "must be a string")
        if entry.timestamp is not None and not isinstance(entry.timestamp, datetime):
            raise ValidationError(f"entries[{index}].timestamp", "must be a datetime")
        source = entry.agent_source
        if source is not None:
            try:
                source = convert(source, AgentSource)
            except ValidationError as exc:
                raise ValidationError(
                    f"entries[{index}].agentSource.{exc.field}", exc.message
                ) from None
        stored.append(
            LogEntry(
                type=entry.type,
                # Agents print raw bytes too: clean rather than refuse.
                message=truncate_log_message(redact(storable_text(entry.message))),
                timestamp=entry.timestamp or now,
                agent_source=source,
            )
        )
    return stored


async def _check_connectors(database: Conn, user_id: str, connector_ids: list[str]) -> None:
    """ValidationError unless every id names one of the user's connectors."""
    owned = await queries.count_connectors(database, user_id=user_id, connector_ids=connector_ids)
    if owned != len(connector_ids):
        raise ValidationError("mcp_server_ids", "names a connector the user does not have")


@boundary
async def create_task(*, user_id: UserId, task: NewTask, conn: Conn | None = None) -> Task:
    """Create a pending task, counted against the user's daily limit, and its prompt message.

    One statement locks the user, counts, inserts the task and records its
    prompt as the task's first user message (whose id is the task's id; the
    daily count skips it, so a task counts once). Raises
    RateLimitExceededError (remaining 0, reset time) when the limit is used
    up, even under concurrent creates; NotFoundError if there is no such
    user; ValidationError when ``mcp_server_ids`` names a connector the user
    does not have, or when a caller-supplied ``id`` is already in use.
    """
    database = await db(conn)
    mcp_server_ids = list(dict.fromkeys(task.mcp_server_ids))
    if mcp_server_ids:
        await _check_connectors(database, user_id, mcp_server_ids)
    try:
        row = await queries.create_task(
            database,
            user_id=user_id,
            id=task.id or new_id(),
            prompt=task.prompt,
            title=task.title,
            repo_url=task.repo_url,
            selected_agent=task.selected_agent,
            selected_model=task.selected_model,
            install_dependencies=task.install_dependencies,
            max_duration=task.max_duration,
            keep_alive=task.keep_alive,
            enable_browser=task.enable_browser,
            mcp_server_ids=mcp_server_ids,
            **limit_parameters(),
        )
    except asyncpg.UniqueViolationError:
        # A caller-supplied id taken by a task or message (of anyone): the
        # statement wrote nothing.
        raise ValidationError("id", "is already in use") from None
    if row is None:
        raise await limit_exceeded(user_id=user_id, conn=database)
    return from_row(row, Task)


@boundary
async def continue_task(
    *, user_id: UserId, task_id: RowId, content: MessageContent, conn: Conn | None = None
) -> TaskMessage:
    """Continue a finished task with a follow-up: the app's continue route.

    One statement, under the daily limit: the task (completed, error or
    stopped, with a branch to continue from) goes back to ``processing``,
    progress 0, ``completed_at`` cleared, and ``content`` is added as a user
    message; returns that message. Of two concurrent continues of one task
    exactly one succeeds. Raises RateLimitExceededError when the limit is
    used up, InvalidTransitionError for a task that is still active (send
    the follow-up with ``create_user_message``) or has no branch, and
    NotFoundError if the task is not the user's.
    """
    database = await db(conn)
    row = await queries.continue_task(
        database,
        user_id=user_id,
        task_id=task_id,
        message_id=new_id(),
        content=content,
        **limit_parameters(),
    )
    if row is not None:
        return from_row(row, TaskMessage)
    task = await get_task(user_id=user_id, task_id=task_id, conn=database)
    if task is None:
        raise NotFoundError("no such task")
    if task.status not in FINAL_STATUSES:
        raise InvalidTransitionError(
            f"task is {task.status}, not finished: send the follow-up with create_user_message"
        )
    if task.branch_name is None:
        raise InvalidTransitionError("task has no branch to continue from")
    raise await limit_exceeded(user_id=user_id, conn=database)


@boundary
async def get_task(
    *,
    user_id: UserId,
    task_id: RowId,
    logs_after: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0,
    conn: Conn | None = None,
) -> Task | None:
    """The user's task with its log, or None (also for deleted and other users' tasks).

    ``logs`` holds the whole log, or with ``logs_after`` its entries from that
    index on: a poller passes the count it has and gets only what is new
    (the rest of the row is read whole either way).
    """
    row = await queries.get_task(
        await db(conn), user_id=user_id, task_id=task_id, logs_after=min(logs_after, _MAX_INDEX)
    )
    if row is None:
        return None
    values = dict(row)
    if values["logs"] is not None:
        values["logs"] = _joined(values["logs"])
    return from_row(values, Task)


def _joined(pages: list[list[Any]]) -> list[Any]:
    """The entries of a log's pages, in order."""
    return [entry for page in pages for entry in page]


@boundary
async def list_tasks(
    *,
    user_id: UserId,
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE_SIZE)] = 20,
    before: TaskCursor | None = None,
    conn: Conn | None = None,
) -> list[TaskSummary]:
    """The user's tasks, newest first, without logs.

    For the next page pass ``before=page[-1].cursor``.
    """
    cursor = before or _FIRST_PAGE
    return [
        from_row(row, TaskSummary)
        async for row in queries.list_tasks(
            await db(conn),
            user_id=user_id,
            before_created_at=cursor.created_at,
            before_id=cursor.id,
            limit=limit,
        )
    ]


@boundary
async def append_task_logs(
    *,
    user_id: UserId,
    task_id: RowId,
    entries: Annotated[Sequence[LogEntry], Shallow],
    conn: Conn | None = None,
) -> int:
    """Append entries to the task's log atomically; returns the log's new length.

    Also records a heartbeat. NotFoundError if the task is not the user's.
    """
    return await _appended(user_id, task_id, entries, conn)


@boundary
async def append_task_log(
    *,
    user_id: UserId,
    task_id: RowId,
    entry: Annotated[LogEntry, Shallow],
    conn: Conn | None = None,
) -> int:
    """Append one entry to the task's log; returns the log's new length."""
    return await _appended(user_id, task_id, (entry,), conn)


async def _appended(
    user_id: str, task_id: str, entries: Sequence[LogEntry], conn: Conn | None
) -> int:
    """The log's length after appending ``entries`` (arguments already checked)."""
    length: int | None = await queries.append_task_logs(
        await db(conn), user_id=user_id, task_id=task_id, entries=_stored_entries(entries)
    )
    if length is None:
        raise NotFoundError("no such task")
    return length


@boundary
async def get_task_logs(
    *,
    user_id: UserId,
    task_id: RowId,
    after: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0,
    conn: Conn | None = None,
) -> list[LogEntry] | None:
    """The task's log entries from index ``after`` on (a poller passes the count it has).

    None if the task is not the user's.
    """
    pages = await queries.get_task_logs(
        await db(conn), user_id=user_id, task_id=task_id, after=min(after, _MAX_INDEX)
    )
    return None if pages is None else read_documents(_joined(pages), LogEntry)


@boundary
async def update_task_status(
    *,
    user_id: UserId,
    task_id: RowId,
    status: TaskStatus,
    progress: Percent | None = None,
    error: LongText | None = None,
    conn: Conn | None = None,
) -> None:
    """Move the task to ``status``; completed, error and stopped are final and set completed_at.

    ``progress`` (0..100) and ``error`` are kept when None. Raises
    InvalidTransitionError for a task already in a final status, NotFoundError
    for a task that is not the user's.
    """
    database = await db(conn)
    updated = await queries.update_task_status(
        database,
        user_id=user_id,
        task_id=task_id,
        status=status,
        progress=progress,
        error=error,
    )
    if updated is None:
        current = await queries.get_task_status(database, user_id=user_id, task_id=task_id)
        if current is None:
            raise NotFoundError("no such task")
        raise InvalidTransitionError(f"task is {current}, a final status")


@boundary
async def update_task_progress(
    *,
    user_id: UserId,
    task_id: RowId,
    progress: Percent,
    message: object,
    conn: Conn | None = None,
) -> int:
    """Set the task's progress and log ``message`` (an info line) in one statement.

    Like the app's ``updateProgress``: also after the task finished (the app
    reports 100 after ``completed``), and it records a heartbeat. Returns the
    log's new length; NotFoundError if the task is not the user's. The
    message is cleaned, redacted and truncated like every log line, not refused.
    """
    if not isinstance(message, str):
        raise ValidationError("message", "must be a string")
    entries = _stored_entries((LogEntry(type="info", message=message),))
    length: int | None = await queries.update_task_progress(
        await db(conn),
        user_id=user_id,
        task_id=task_id,
        progress=progress,
        entries=entries,
    )
    if length is None:
        raise NotFoundError("no such task")
    return length


@boundary
async def clear_task_logs(*, user_id: UserId, task_id: RowId, conn: Conn | None = None) -> None:
    """Empty the task's log (the app's clear-logs endpoint); NotFoundError if not the user's."""
    _updated(await queries.clear_task_logs(await db(conn), user_id=user_id, task_id=task_id))


@boundary
async def start_sub_agent(
    *,
    user_id: UserId,
    task_id: RowId,
    name: SubAgentName,
    description: SubAgentDescription | None = None,
    parent_agent: SubAgentName | None = None,
    conn: Conn | None = None,
) -> str:
    """Record a sub-agent ``starting`` on the task; returns its id.

    One statement appends its element to ``sub_agent_activity``, makes it the
    current sub-agent and logs ``Sub-agent started: ...`` (a ``subagent``
    line from ``parent_agent``, default ``primary``). NotFoundError if the
    task is not the user's.
    """
    sub_agent_id = new_id()
    parent = parent_agent or "primary"
    activity = SubAgentActivity(
        id=sub_agent_id,
        name=name,
        status="starting",
        started_at=datetime.now(UTC),
        description=description,
    )
    detail = f" - {description}" if description else ""
    entry = LogEntry(
        type="subagent",
        message=f"Sub-agent started: {name}{detail}",
        agent_source=AgentSource(
            name=name, is_sub_agent=True, parent_agent=parent, sub_agent_id=sub_agent_id
        ),
    )
    length = await queries.append_task_sub_agent(
        await db(conn),
        user_id=user_id,
        task_id=task_id,
        activity=[activity],
        entries=_stored_entries((entry,)),
    )
    if length is None:
        raise NotFoundError("no such task")
    return sub_agent_id


@boundary
async def update_sub_agent(
    *,
    user_id: UserId,
    task_id: RowId,
    sub_agent_id: RowId,
    status: SubAgentStatus = "running",
    description: SubAgentDescription | None = None,
    conn: Conn | None = None,
) -> None:
    """Set one sub-agent's status (and description, None keeps it) in place.

    A jsonb path update of that element alone, keyed by its id: concurrent
    updates of different sub-agents all land. NotFoundError if the task is
    not the user's or has no such sub-agent.
    """
    patch: dict[str, str] = {"status": status}
    if description is not None:
        patch["description"] = description
    updated = await queries.update_task_sub_agent(
        await db(conn),
        user_id=user_id,
        task_id=task_id,
        sub_agent_id=sub_agent_id,
        changes=patch,
    )
    if updated is None:
        raise NotFoundError("no such sub-agent")


@boundary
async def complete_sub_agent(
    *,
    user_id: UserId,
    task_id: RowId,
    sub_agent_id: RowId,
    success: bool = True,
    parent_agent: SubAgentName | None = None,
    conn: Conn | None = None,
) -> None:
    """Finish one sub-agent: ``completed`` (or ``error`` when not ``success``), ``completedAt`` now.

    One statement also logs ``Sub-agent completed/failed: <name>`` and makes
    another starting or running sub-agent current (none if there is none),
    reading the array under the row lock, so concurrent completions agree.
    NotFoundError if the task is not the user's or has no such sub-agent.
    """
    length = await queries.complete_task_sub_agent(
        await db(conn),
        user_id=user_id,
        task_id=task_id,
        sub_agent_id=sub_agent_id,
        status="completed" if success else "error",
        completed_at=datetime.now(UTC).isoformat(),
        parent_agent=parent_agent or "primary",
    )
    if length is None:
        raise NotFoundError("no such sub-agent")


def _updated(task_id: str | None) -> None:
    """NotFoundError when an update matched no task of the user."""
    if task_id is None:
        raise NotFoundError("no such task")


async def _update_fields(
    query: Any, conn: Conn | None, *, user_id: str, task_id: str, **fields: Any
) -> None:
    """Check ``fields`` against TaskChanges, then run the update ``query`` with them."""
    changes = convert(fields, TaskChanges)
    values = {name: getattr(changes, name) for name in fields}
    _updated(await query(await db(conn), user_id=user_id, task_id=task_id, **values))


@boundary
async def update_task_title(
    *, user_id: UserId, task_id: RowId, title: LongText | None = None, conn: Conn | None = None
) -> None:
    """Set the task's title (None keeps it); NotFoundError if the task is not the user's."""
    await _update_fields(
        queries.update_task_title, conn, user_id=user_id, task_id=task_id, title=title
    )


@boundary
async def update_task_branch(
    *,
    user_id: UserId,
    task_id: RowId,
    branch_name: GitRef | None = None,
    source_branch: GitRef | None = None,
    conn: Conn | None = None,
) -> None:
    """Set the task's branch and the branch it started from (None keeps a value)."""
    await _update_fields(
        queries.update_task_branch,
        conn,
        user_id=user_id,
        task_id=task_id,
        branch_name=branch_name,
        source_branch=source_branch,
    )


@boundary
async def update_task_sandbox(
    *,
    user_id: UserId,
    task_id: RowId,
    sandbox_id: OptionalText | None = None,
    sandbox_url: Url | None = None,
    preview_url: Url | None = None,
    conn: Conn | None = None,
) -> None:
    """Set the task's sandbox id and URLs (None keeps a value)."""
    await _update_fields(
        queries.update_task_sandbox,
        conn,
        user_id=user_id,
        task_id=task_id,
        sandbox_id=sandbox_id,
        sandbox_url=sandbox_url,
        preview_url=preview_url,
    )


@boundary
async def update_task_agent_session(
    *,
    user_id: UserId,
    task_id: RowId,
    agent_session_id: OptionalText | None = None,
    conn: Conn | None = None,
) -> None:
    """Set the agent's session id of the task, to resume it later (None keeps it)."""
    await _update_fields(
        queries.update_task_agent_session,
        conn,
        user_id=user_id,
        task_id=task_id,
        agent_session_id=agent_session_id,
    )


@boundary
async def update_task_pull_request(
    *,
    user_id: UserId,
    task_id: RowId,
    pr_url: Url | None = None,
    pr_number: PrNumber | None = None,
    pr_status: PrStatus | None = None,
    pr_merge_commit_sha: CommitSha | None = None,
    conn: Conn | None = None,
) -> None:
    """Set the task's pull request URL, number, status (open|closed|merged) and merge commit.

    None keeps a value, so a merge can set just the status and the sha.
    """
    await _update_fields(
        queries.update_task_pull_request,
        conn,
        user_id=user_id,
        task_id=task_id,
        pr_url=pr_url,
        pr_number=pr_number,
        pr_status=pr_status,
        pr_merge_commit_sha=pr_merge_commit_sha,
    )


@boundary
async def update_task_sub_agents(
    *,
    user_id: UserId,
    task_id: RowId,
    sub_agent_activity: Sequence[SubAgentActivity],
    current_sub_agent: OptionalText | None,
    conn: Conn | None = None,
) -> None:
    """Replace the task's sub-agent activity and current sub-agent; records a heartbeat."""
    await _update_fields(
        queries.update_task_sub_agents,
        conn,
        user_id=user_id,
        task_id=task_id,
        sub_agent_activity=list(sub_agent_activity),
        current_sub_agent=current_sub_agent,
    )


@boundary
async def update_task_mcp_servers(
    *, user_id: UserId, task_id: RowId, mcp_server_ids: Sequence[Id], conn: Conn | None = None
) -> None:
    """Set the connectors the task uses; each must be one of the user's (else ValidationError)."""
    connector_ids = list(dict.fromkeys(mcp_server_ids))
    async with transaction(conn) as tx:
        if connector_ids:
            await _check_connectors(tx, user_id, connector_ids)
        _updated(
            await queries.update_task_mcp_servers(
                tx, user_id=user_id, task_id=task_id, mcp_server_ids=connector_ids
            )
        )


@boundary
async def touch_task_heartbeat(
    *, user_id: UserId, task_id: RowId, conn: Conn | None = None
) -> None:
    """Record that the task's agent is alive."""
    _updated(await queries.update_task_heartbeat(await db(conn), user_id=user_id, task_id=task_id))


@boundary
async def delete_task(*, user_id: UserId, task_id: RowId, conn: Conn | None = None) -> None:
    """Soft-delete the task: gone from get, list and the daily count; kept for audit."""
    _updated(await queries.delete_task(await db(conn), user_id=user_id, task_id=task_id))


@boundary
async def purge_deleted_tasks(
    *,
    older_than: Annotated[timedelta, Within(timedelta(0), MAX_PURGE_AGE)],
    conn: Conn | None = None,
) -> int:
    """Delete, across all users, tasks soft-deleted more than ``older_than`` ago; returns the count.

    A maintenance job (e.g. nightly), not a request handler.
    """
    count: int = await queries.purge_deleted_tasks(await db(conn), older_than=older_than)
    return count
