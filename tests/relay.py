"""A TCP relay in front of the server, that can stop forwarding: a partitioned network.

``stall()`` keeps every connection open but forwards nothing more, as when
packets stop and nothing closes; new connections are accepted and then
ignored too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit, urlunsplit


class Relay:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        query = parse_qs(parts.query)
        self._host = parts.hostname or query.get("host", ["127.0.0.1"])[0]
        self._port = parts.port or int(query.get("port", ["5432"])[0])
        self._upstream_url = upstream_url
        self._stalled = asyncio.Event()
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    def url(self) -> str:
        """The upstream URL (same database and user) pointed at the relay."""
        parts = urlsplit(self._upstream_url)
        user = parts.username or "postgres"
        return urlunsplit(("postgresql", f"{user}@127.0.0.1:{self.port}", parts.path, "", ""))

    def stall(self) -> None:
        """Stop forwarding anything, on every connection, without closing one."""
        self._stalled.set()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self._host}/.s.PGSQL.{self._port}")
        return await asyncio.open_connection(self._host, self._port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if self._stalled.is_set():
                    await self._closed.wait()  # hold the data: forward nothing, close nothing
                    break
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._writers.append(client_w)
        if self._stalled.is_set():
            await self._closed.wait()
            return
        server_r, server_w = await self._open_upstream()
        self._writers.append(server_w)
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Relay]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._closed.set()
            server.close()
            for task in list(self._tasks):
                task.cancel()
            for writer in self._writers:
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await server.wait_closed()
