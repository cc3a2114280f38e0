"""The client's deadline on a direct connection: one watcher per event loop.

Directly on PostgreSQL the server enforces the lock and statement timeouts
itself (startup parameters); the client only has to notice a server that
stopped answering, packets lost and nothing closed, and drop that
connection. A timer per statement (asyncpg's ``timeout=``) would cost every
call a timer set and cancelled, about 8 us of CPU. Instead each statement in
flight is noted with its deadline, and one timer per event loop, armed only
while statements are in flight, looks every ``TICK`` seconds and terminates
the connection of a statement past its deadline (no cancel request: it would
need the same dead network). The statement then fails, and the caller of
``Watch.finish`` learns that it was the deadline.

Behind a transaction-mode pooler the client enforces the statement timeout
itself, with a cancel request; that path keeps asyncpg's ``timeout=``
(``sql._bounded``).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

__all__ = ["TICK", "Watch", "watch"]

TICK = 0.1
"""Seconds between the watcher's looks: how late past its deadline a dead connection is dropped."""


class Watch:
    """The statements in flight on the connections of one event loop, with their deadlines."""

    __slots__ = ("_deadlines", "_expired", "_loop", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._deadlines: dict[Any, float] = {}
        self._expired: set[Any] = set()
        self._timer: asyncio.TimerHandle | None = None

    def start(self, conn: Any, seconds: float) -> None:
        """Watch ``conn``'s statement from now: ``seconds`` to answer."""
        self._deadlines[conn] = self._loop.time() + seconds
        if self._timer is None:
            self._timer = self._loop.call_later(TICK, self._look)

    def finish(self, conn: Any) -> bool:
        """Stop watching ``conn``; whether its deadline passed and it was dropped."""
        if self._deadlines.pop(conn, None) is not None:
            return False
        if conn in self._expired:
            self._expired.discard(conn)
            return True
        return False

    def _look(self) -> None:
        now = self._loop.time()
        for conn, deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[conn]
                self._expired.add(conn)
                conn.terminate()
        self._timer = self._loop.call_later(TICK, self._look) if self._deadlines else None


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watch] = weakref.WeakKeyDictionary()


def watch() -> Watch:
    """The watcher of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = Watch(loop)
    return found
