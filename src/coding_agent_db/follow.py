"""Push: follow a task's log and an agent's reply as they are written.

``follow_task_logs`` and ``follow_agent_message`` are async iterators of
batches: new log entries, or new reply text, as soon as the statement that
wrote them commits. They end when the task reaches a final status or the
reply is complete (after yielding what is left), and when the caller stops
iterating.

How: migration 0042's triggers ``NOTIFY`` on every write of a task's log or
status and of a reply (payload ``<id> <length>``, no content). One listener
connection per event loop ``LISTEN``s on both channels for all the
followers of the process; a notification wakes the followers of that id,
which read what is new through the normal user-scoped query, one read per
notification shared by all the followers of one task of one user.

The listener's connection is its own, on ``POSTGRES_LISTEN_URL``, else
``POSTGRES_URL_NON_POOLING`` (what Vercel and Supabase name the direct URL),
else ``POSTGRES_URL``. A pooler is refused: through a transaction-mode pooler
``LISTEN`` is silently lost (and a session-mode one cannot be told apart).

Under failure: a follower is subscribed and the listener is listening
before its first read, so nothing written in between is missed. When the
listener's connection dies every follower is woken; the next one to read
reconnects and listens again first, then each catches up from the index it
has. A read every ``POSTGRES_FOLLOW_SAFETY_NET`` seconds (5 by default)
covers a network that fails silently. The listener never opens a
transaction, so the server's notification queue drains (``doctor`` reports
its usage).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import asyncpg
from msgspec import Meta

from coding_agent_db.boundary import boundary
from coding_agent_db.config import database_settings, database_url, env, env_seconds
from coding_agent_db.errors import ConfigurationError, DatabaseTimeoutError, NotFoundError
from coding_agent_db.messages import get_agent_message
from coding_agent_db.models import LogEntry, RowId, UserId
from coding_agent_db.pool import pooler_in_front, translated
from coding_agent_db.tasks import FINAL_STATUSES, get_task

__all__ = [
    "MESSAGES_CHANNEL",
    "TASKS_CHANNEL",
    "close_listener",
    "follow_agent_message",
    "follow_task_logs",
]

TASKS_CHANNEL = "coding_agent_db_tasks"
MESSAGES_CHANNEL = "coding_agent_db_messages"
_URL_SETTINGS = ("POSTGRES_LISTEN_URL", "POSTGRES_URL_NON_POOLING", "POSTGRES_URL")

Read = Callable[[int], Awaitable[tuple[list[Any] | str, bool] | None]]
"""A feed's read from a position on: (what is new, whether it has ended), None if gone."""


def listen_url() -> tuple[str, str]:
    """The listener's URL and the setting it came from."""
    for name in _URL_SETTINGS:
        if env(name):
            return database_url(name), name
    return database_url(), "POSTGRES_URL"


@dataclass(eq=False)
class _Follower:
    """One iteration of a follow: where it is, and how it is woken."""

    position: int
    woken: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class _Feed:
    """The followers of one task (or reply) of one user, sharing their reads.

    Reads run one at a time. A notification moves ``generation``; a read
    made at the current generation, from at or before a follower's
    position, serves that follower too.
    """

    read: Read
    followers: set[_Follower] = field(default_factory=set)
    generation: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last: tuple[int, int, list[Any] | str, bool] | None = None
    """(generation, position read from, what was read, ended) of the last read."""

    def wake(self) -> None:
        self.generation += 1
        for follower in self.followers:
            follower.woken.set()

    async def fetch(self, follower: _Follower) -> tuple[list[Any] | str, bool] | None:
        """What is new for ``follower``, and whether the feed has ended; None if gone."""
        async with self._lock:
            last = self._last
            if last is None or last[0] != self.generation or last[1] > follower.position:
                generation = self.generation
                start = min(other.position for other in self.followers)
                result = await self.read(start)
                if result is None:
                    self._last = None
                    return None
                last = self._last = (generation, start, result[0], result[1])
        return last[2][follower.position - last[1] :], last[3]


class _Listener:
    """The connection of one event loop that LISTENs for every follower of it."""

    def __init__(self) -> None:
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._connecting = asyncio.Lock()
        self.connected = asyncio.Event()
        """Set while the connection is listening."""
        self.feeds: dict[tuple[str, str], dict[str, _Feed]] = {}
        """(kind, id) -> user id -> feed: a notification names a kind and an id."""

    async def listening(self) -> None:
        """Connect and LISTEN, unless already listening."""
        if self._conn is not None and not self._conn.is_closed():
            return
        async with self._connecting:
            if self._conn is not None and not self._conn.is_closed():
                return
            url, setting = listen_url()
            if await pooler_in_front(url):
                raise ConfigurationError(
                    f"{setting} goes through a pooler, where LISTEN does not work: set "
                    "POSTGRES_LISTEN_URL (or POSTGRES_URL_NON_POOLING) to a direct connection "
                    "to PostgreSQL"
                )
            settings = database_settings()
            with translated("listen"):
                try:
                    conn = await asyncpg.connect(
                        url, statement_cache_size=0, timeout=settings.connect_timeout
                    )
                except TimeoutError as exc:
                    raise DatabaseTimeoutError(
                        "connect", statement="listen", seconds=settings.connect_timeout
                    ) from exc
                conn.add_termination_listener(self._lost)
                await conn.add_listener(TASKS_CHANNEL, self._notified)
                await conn.add_listener(MESSAGES_CHANNEL, self._notified)
            self._conn = conn
            self.connected.set()
            # What was written while no one listened is read again by every follower.
            self._wake_all()

    def feed(self, kind: str, user_id: str, row_id: str, read: Read) -> _Feed:
        feeds = self.feeds.setdefault((kind, row_id), {})
        found = feeds.get(user_id)
        if found is None:
            found = feeds[user_id] = _Feed(read)
        return found

    def leave(self, kind: str, user_id: str, row_id: str, follower: _Follower) -> None:
        feeds = self.feeds.get((kind, row_id), {})
        feed = feeds.get(user_id)
        if feed is None:
            return
        feed.followers.discard(follower)
        if not feed.followers:
            del feeds[user_id]
            if not feeds:
                del self.feeds[(kind, row_id)]

    def _notified(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        kind = "task" if channel == TASKS_CHANNEL else "message"
        row_id = str(payload).rpartition(" ")[0]
        for feed in self.feeds.get((kind, row_id), {}).values():
            feed.wake()

    def _lost(self, conn: Any) -> None:
        if conn is self._conn:
            self._conn = None
            self.connected.clear()
        self._wake_all()

    def _wake_all(self) -> None:
        for feeds in self.feeds.values():
            for feed in feeds.values():
                feed.wake()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None
            self.connected.clear()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (None when not connected)."""
        return None if self._conn is None else self._conn.get_server_pid()


_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Listener] = (
    weakref.WeakKeyDictionary()
)


def listener() -> _Listener:
    """The listener of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(loop)
    if found is None:
        found = _listeners[loop] = _Listener()
    return found


@boundary
def close_listener() -> None:
    """Close the running loop's listener connection; followers reconnect on their next read."""
    found = _listeners.pop(asyncio.get_running_loop(), None)
    if found is not None:
        found.close()


async def _follow(
    kind: str, user_id: str, row_id: str, read: Read, after: int
) -> AsyncGenerator[Any, None]:
    listening = listener()
    feed = listening.feed(kind, user_id, row_id, read)
    follower = _Follower(after)
    feed.followers.add(follower)
    safety_net = env_seconds("POSTGRES_FOLLOW_SAFETY_NET", 5) or None
    first = True
    try:
        while True:
            await listening.listening()  # before the read: nothing falls in between
            follower.woken.clear()
            result = await feed.fetch(follower)
            if result is None:
                if first:
                    raise NotFoundError(f"no such {kind}")
                return  # deleted meanwhile
            first = False
            new, ended = result
            if new:
                follower.position += len(new)
                yield new
            if ended:
                return
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for returns a wake-up
            # that lands with the caller's cancellation and drops the cancellation.
            try:
                async with asyncio.timeout(safety_net):
                    await follower.woken.wait()
            except TimeoutError:
                feed.wake()  # the safety net: read again, notified or not
    finally:
        listening.leave(kind, user_id, row_id, follower)


@boundary
def follow_task_logs(
    *,
    user_id: UserId,
    task_id: RowId,
    after: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0,
) -> AsyncGenerator[list[LogEntry], None]:
    """The task's log entries from index ``after`` on, in batches as they are written.

    ``async for batch in follow_task_logs(...)``. Ends once the task has a
    final status (completed, error, stopped) and its last entries are
    yielded, or when the task is deleted. NotFoundError, before anything is
    yielded, if the task is not the user's. Reads go through the pool, a
    connection for each read only.
    """

    async def read(position: int) -> tuple[list[Any], bool] | None:
        task = await get_task(user_id=user_id, task_id=task_id, logs_after=position)
        if task is None:
            return None
        return list(task.logs or []), task.status in FINAL_STATUSES

    return _follow("task", user_id, task_id, read, after)


@boundary
def follow_agent_message(
    *,
    user_id: UserId,
    message_id: RowId,
    after: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0,
) -> AsyncGenerator[str, None]:
    """The agent reply's text from character ``after`` on, in pieces as it streams.

    What is yielded is what readers see (``list_task_messages``): the reply
    redacted as a whole, without a last word that could be a secret still
    arriving. Ends once the reply is complete (``complete_agent_message``),
    or when its task is deleted. NotFoundError, before anything is yielded,
    if the reply is not the user's.
    """

    async def read(position: int) -> tuple[str, bool] | None:
        message = await get_agent_message(user_id=user_id, message_id=message_id)
        if message is None:
            return None
        return message.content[position:], message.completed_at is not None

    return _follow("message", user_id, message_id, read, after)
