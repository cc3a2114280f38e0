"""A PgBouncer of the test's own, in transaction mode, in front of the run's server.

Tests that need a pooler start one on a free port with ``running_pgbouncer``.
PgBouncer must be installed (``apt-get install pgbouncer``; ``.ci/run`` does
it): a missing binary fails the test with that instruction, it is never a skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


def pgbouncer_binary() -> str:
    """The pgbouncer executable; fails the test with how to install it when absent."""
    found = shutil.which("pgbouncer") or shutil.which(
        "pgbouncer", path=os.pathsep.join(SEARCH_PATH)
    )
    if found is None:
        pytest.fail(
            "pgbouncer is not installed: `apt-get install -y pgbouncer` (.ci/run does it); "
            "the pooler tests need it and are not skipped",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _upstream(server_url: str) -> tuple[str, int]:
    """Host (or Unix socket directory) and port of the server behind ``server_url``."""
    parts = urlsplit(server_url)
    query = parse_qs(parts.query)
    host = parts.hostname or query.get("host", ["127.0.0.1"])[0]
    port = parts.port or int(query.get("port", ["5432"])[0])
    return host, port


def through(pooler_port: int, database_url: str) -> str:
    """``database_url`` (same database and user) pointed at a pooler on 127.0.0.1."""
    parts = urlsplit(database_url)
    user = parts.username or "postgres"
    return urlunsplit(("postgresql", f"{user}@127.0.0.1:{pooler_port}", parts.path, "", ""))


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited at start:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"pgbouncer did not listen on {port} within 10 s")


@contextmanager
def running_pgbouncer(server_url: str, *, pool_size: int = 4) -> Iterator[int]:
    """A PgBouncer in transaction mode in front of the server; yields its port.

    ``pool_size`` server connections per database and user: small, so that
    clients share server connections as they do in production.
    """
    binary = pgbouncer_binary()
    host, upstream_port = _upstream(server_url)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cadb-pgbouncer-") as tmp:
        workdir = Path(tmp)
        (workdir / "users.txt").write_text('"postgres" ""\n')
        log = workdir / "pgbouncer.log"
        config = workdir / "pgbouncer.ini"
        # PgBouncer refuses to run as root: run it as the owner of the server's
        # Unix socket directory (so it may connect there), else as postgres.
        owner = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "postgres"
        run_as = f"user = {owner}\n" if os.geteuid() == 0 else ""
        config.write_text(
            "[databases]\n"
            f"* = host={host} port={upstream_port}\n"
            "[pgbouncer]\n"
            f"{run_as}"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {workdir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits\n"
            f"logfile = {log}\n"
        )
        if os.geteuid() == 0:
            shutil.chown(workdir, owner)
            for path in workdir.iterdir():
                shutil.chown(path, owner)
        process = subprocess.Popen(
            [binary, "--quiet", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port, process, log)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
