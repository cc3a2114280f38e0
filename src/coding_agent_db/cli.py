"""``coding-agent-db``: the operator's command line (also ``python -m coding_agent_db``).

Every command has ``--help``, and all but ``demo`` ``--json`` (one JSON
document on stdout, for scripts). Exit codes: 0 all is well, 1 findings or a
failure, 2 a usage error (argparse's own). The database is ``POSTGRES_URL``,
read from the environment, then ``.env.local``, then ``.env``, like the package.

argparse (standard library) parses the command line; tqdm draws the progress
bar of ``rotate-keys`` (rate and ETA included) and formats its plain lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TextIO

import asyncpg
import msgspec
import psycopg
from tqdm import tqdm

from coding_agent_db import migrate
from coding_agent_db.api_tokens import purge_expired_api_tokens
from coding_agent_db.config import database_url
from coding_agent_db.crypto import Keyring, keyring
from coding_agent_db.doctor import DoctorContext, Finding, run_checks, where
from coding_agent_db.errors import CodingAgentDbError, MigrationLockedError
from coding_agent_db.pool import close_pool, create_pool
from coding_agent_db.rotation import RotationReport, rotate_keys
from coding_agent_db.status import DatabaseStatus, database_status
from coding_agent_db.tasks import purge_deleted_tasks

__all__ = ["main"]

PROG = "coding-agent-db"
CONNECT_TIMEOUT = 15.0
SHOWN_UNREADABLE = 20
PLAIN_PROGRESS_EVERY = 2.0
"""Seconds between two plain progress lines (the first and the last always print)."""


DATABASE_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    psycopg.Error,
)
"""What a command reports as a short message rather than a traceback."""


# -- output ------------------------------------------------------------------


def emit_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value).decode(), indent=2) + "\n")


def say(text: str = "") -> None:
    print(text, flush=True)


def counted(n: int, noun: str) -> str:
    """``1 migration``, ``2 migrations``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- argument types ------------------------------------------------------------

_DURATION = re.compile(r"(?P<amount>\d{1,6})(?P<unit>[smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` as a timedelta (argparse type)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration like 30d, 12h, 90m, 45s or 2w"
        )
    return timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})


def describe(span: timedelta) -> str:
    """A duration in its largest exact unit: ``30 days``, ``12 hours``, ``0 seconds``."""
    seconds = int(span.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            return counted(seconds // size, unit)
    return counted(seconds, "second")


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# -- database access -------------------------------------------------------------


async def _with_connection(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(conn)`` on a connection to ``url`` set up like the package's pool."""
    async with asyncio.timeout(CONNECT_TIMEOUT):
        pool = await create_pool(url)
    try:
        async with pool.acquire() as conn:
            return await work(conn)
    finally:
        await pool.close()


def _optional_keyring() -> Keyring | None:
    try:
        return keyring()
    except CodingAgentDbError:
        return None


# -- migrate, rollback, break-lock ---------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    url = database_url()
    if args.dry_run:
        pending = migrate.migration_state(url).pending
        if args.json:
            emit_json({"dry_run": True, "pending": pending})
        else:
            say(
                f"{counted(len(pending), 'migration')} would be applied" + (":" if pending else ".")
            )
            for migration_id in pending:
                say(f"  {migration_id}")
        return 0
    applied = migrate.apply_pending(url, lock_timeout=args.lock_timeout)
    if args.json:
        emit_json({"dry_run": False, "applied": applied})
    else:
        for migration_id in applied:
            say(f"applied {migration_id}")
        say(f"{counted(len(applied), 'migration')} applied; the schema is current.")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    url = database_url()
    count = None if args.all else args.count
    if args.dry_run:
        applied = migrate.migration_state(url).applied
        chosen = list(reversed(applied))[:count]
        if args.json:
            emit_json({"dry_run": True, "rolled_back": chosen})
        else:
            say(
                f"{counted(len(chosen), 'migration')} would be rolled back"
                + (":" if chosen else ".")
            )
            for migration_id in chosen:
                say(f"  {migration_id}")
        return 0
    rolled_back = migrate.rollback_latest(url, count, lock_timeout=args.lock_timeout)
    if args.json:
        emit_json({"dry_run": False, "rolled_back": rolled_back})
    else:
        for migration_id in rolled_back:
            say(f"rolled back {migration_id}")
        say(f"{counted(len(rolled_back), 'migration')} rolled back.")
    return 0


def cmd_break_lock(args: argparse.Namespace) -> int:
    migrate.break_migration_lock(database_url())
    if args.json:
        emit_json({"lock": "removed"})
    else:
        say("The migration lock is removed.")
    return 0


# -- status ------------------------------------------------------------------------------


def print_status(url: str, status: DatabaseStatus) -> None:
    m = status.migrations
    say(f"database    {where(url)} (PostgreSQL {status.server_version})")
    line = f"migrations  {len(m.applied)} applied, {len(m.pending)} pending"
    if m.unknown:
        line += f", {m.unknown} unknown to this version"
    say(line)
    for migration_id in m.pending:
        say(f"  pending   {migration_id}")
    lock = status.migration_lock
    say(
        "lock        "
        + (
            "none"
            if lock is None
            else f"held by process {lock.pid} since {lock.locked_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    )
    if status.rows is None:
        say("rows        (no schema yet)")
    else:
        say("rows")
        for name, count in msgspec.structs.asdict(status.rows).items():
            say(f"  {name:<20} {count:>10}")
    if status.secrets is not None:
        if not status.secrets:
            say("secrets     none stored")
        else:
            say(f"secrets{'':<26}{'format':<15}{'key id':<26}{'count':>6}")
        for s in status.secrets:
            key = (s.key_id or "-") + (f" ({s.key})" if s.key else "")
            say(f"  {s.table_name + '.' + s.column_name:<31}{s.format:<15}{key:<26}{s.count:>6}")


def cmd_status(args: argparse.Namespace) -> int:
    url = database_url()
    ring = _optional_keyring()
    status: DatabaseStatus = asyncio.run(
        _with_connection(url, lambda conn: database_status(conn, url, ring))
    )
    if args.json:
        emit_json(status)
    else:
        print_status(url, status)
    return 0


# -- doctor ----------------------------------------------------------------------------------

_MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


async def _doctor(url: str) -> list[Finding]:
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            pool = await create_pool(url)
    except Exception as exc:  # any reason the server cannot be reached is the finding
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return await run_checks(DoctorContext(url=url, conn=None, connect_error=reason))
    try:
        async with pool.acquire() as conn:
            return await run_checks(DoctorContext(url=url, conn=conn))
    finally:
        await pool.close()


def cmd_doctor(args: argparse.Namespace) -> int:
    url = database_url()
    findings = asyncio.run(_doctor(url))
    healthy = all(f.status == "ok" for f in findings)
    if args.json:
        emit_json({"ok": healthy, "checks": findings})
    else:
        for f in findings:
            say(f"{_MARKS[f.status]:<5} {f.check:<16} {f.summary}")
            for detail in f.details:
                say(f"{'':<22}  {detail}")
            if f.advice:
                say(f"{'':<22}-> {f.advice}")
        say("All checks passed." if healthy else "Some checks need attention (see above).")
    return 0 if healthy else 1


# -- rotate-keys ---------------------------------------------------------------------------------

PLAIN_FORMAT = (
    "rotate-keys: {n_fmt}/{total_fmt} rows ({percentage:.0f}%), {rate_fmt}, ETA {remaining}"
)


class Progress:
    """rotate-keys progress: a tqdm bar on a terminal, plain lines otherwise."""

    def __init__(self, mode: str, stream: TextIO) -> None:
        self.bar_mode = mode == "bar" or (mode == "auto" and stream.isatty())
        self.quiet = mode == "none"
        self.stream = stream
        self.started = time.monotonic()
        self.last_line = 0.0
        self.bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar_mode:
            if self.bar is None:  # drawn once the total is known: after the first batch
                sized = _terminal_columns(self.stream) > 0
                self.bar = tqdm(
                    total=total,
                    initial=done,
                    desc="rotate-keys",
                    unit="rows",
                    file=self.stream,
                    # Follow resizes. A terminal reporting no size (0x0: `script`,
                    # some CI runners' ptys) would hide the bar: give it 80x24.
                    dynamic_ncols=sized,
                    ncols=None if sized else 80,
                    nrows=None if sized else 24,
                )
            self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        now = time.monotonic()
        if done < total and self.last_line and now - self.last_line < PLAIN_PROGRESS_EVERY:
            return
        self.last_line = now
        line = tqdm.format_meter(
            done, total, now - self.started, unit="rows", bar_format=PLAIN_FORMAT
        )
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _terminal_columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 0


async def _rotate(batch_size: int, verify: bool, progress: Progress) -> RotationReport:
    try:
        return await rotate_keys(batch_size=batch_size, on_progress=progress, verify=verify)
    finally:
        progress.close()
        await close_pool()


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    database_url()  # a missing POSTGRES_URL is reported before anything starts
    keyring()
    progress = Progress(args.progress, sys.stderr)
    report = asyncio.run(_rotate(args.batch_size, args.verify, progress))
    if args.json:
        emit_json(report)
        return 1 if report.unreadable else 0
    say(f"rewrote {report.rewritten} of {report.rows} rows under the current key")
    if report.unreadable:
        say(f"{len(report.unreadable)} values could not be decrypted and were left as they were:")
        for location in report.unreadable[:SHOWN_UNREADABLE]:
            say(f"  {location}")
        if len(report.unreadable) > SHOWN_UNREADABLE:
            say(f"  ... and {len(report.unreadable) - SHOWN_UNREADABLE} more")
    if report.legacy_remaining:
        say(
            f"{report.legacy_remaining} values are still in the legacy format: "
            "keep ENCRYPTION_LEGACY_READS on"
        )
    else:
        say("no value is in the legacy format: ENCRYPTION_LEGACY_READS=off is safe")
    return 1 if report.unreadable else 0


# -- purges ----------------------------------------------------------------------------------------


async def _purge(job: Callable[[], Awaitable[int]]) -> int:
    try:
        return await job()
    finally:
        await close_pool()


def cmd_purge_deleted(args: argparse.Namespace) -> int:
    database_url()
    count = asyncio.run(_purge(lambda: purge_deleted_tasks(older_than=args.older_than)))
    if args.json:
        emit_json({"purged_tasks": count, "older_than_seconds": args.older_than.total_seconds()})
    else:
        since = describe(args.older_than)
        say(f"purged {counted(count, 'task')} soft-deleted more than {since} ago")
    return 0


def cmd_purge_expired_tokens(args: argparse.Namespace) -> int:
    database_url()
    count = asyncio.run(_purge(lambda: purge_expired_api_tokens(grace=args.grace)))
    if args.json:
        emit_json({"purged_tokens": count, "grace_seconds": args.grace.total_seconds()})
    else:
        say(f"purged {counted(count, 'API token')} expired more than {describe(args.grace)} ago")
    return 0


# -- adopt -----------------------------------------------------------------------------------------


def cmd_adopt(args: argparse.Namespace) -> int:
    from coding_agent_db import adopt

    return adopt.run(args.url or database_url(), dry_run=args.dry_run, remove=args.remove_shims)


# -- demo ------------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from coding_agent_db import demo

    return demo.run()


# -- the parser ------------------------------------------------------------------------------------


def lock_timeout(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--lock-timeout",
        type=float,
        default=migrate.LOCK_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for another migration's lock (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout, for scripts"
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operate the database of coding-agent-db. The database is POSTGRES_URL "
        "(environment, else .env.local, else .env).",
        epilog="Exit codes: 0 ok, 1 findings or failure, 2 usage error. "
        "'%(prog)s COMMAND --help' describes a command.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], text: str, *, json: bool = True
    ) -> Any:
        sub = commands.add_parser(
            name, parents=[common] if json else [], help=text, description=text
        )
        sub.set_defaults(handler=handler)
        return sub

    sub = command("migrate", cmd_migrate, "apply the pending migrations (shipped in the package)")
    sub.add_argument("--dry-run", action="store_true", help="list what would run, change nothing")
    lock_timeout(sub)

    sub = command("rollback", cmd_rollback, "roll back the most recent migrations")
    group = sub.add_mutually_exclusive_group()
    group.add_argument(
        "--count", type=positive, default=1, help="how many to roll back (default: 1)"
    )
    group.add_argument("--all", action="store_true", help="roll back every migration")
    sub.add_argument("--dry-run", action="store_true", help="list what would run, change nothing")
    lock_timeout(sub)

    command(
        "break-lock",
        cmd_break_lock,
        "remove the migration lock a killed migration left (only when none is running)",
    )
    command(
        "status",
        cmd_status,
        "migrations applied and pending, the migration lock, row counts, "
        "secrets by format and key id",
    )
    command(
        "doctor",
        cmd_doctor,
        "check the deployment and say what to do; exit 1 unless every check is ok",
    )

    sub = command(
        "rotate-keys",
        cmd_rotate_keys,
        "re-encrypt every secret under ENCRYPTION_KEY; exit 1 if some value could not be decrypted",
    )
    sub.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="rows per transaction (default: 500)",
    )
    sub.add_argument(
        "--verify",
        action="store_true",
        help="also decrypt the values already under the current key, reporting damaged ones",
    )
    sub.add_argument(
        "--progress",
        choices=["auto", "bar", "lines", "none"],
        default="auto",
        help="a bar with rate and ETA (auto: when stderr is a terminal), plain lines, or nothing",
    )

    sub = command("purge-deleted", cmd_purge_deleted, "delete for good tasks soft-deleted long ago")
    sub.add_argument(
        "--older-than",
        type=duration,
        required=True,
        help="how long ago they were deleted: 30d, 12h, 90m, 45s, 2w",
    )

    sub = command(
        "purge-expired-tokens",
        cmd_purge_expired_tokens,
        "delete API tokens that expired more than a grace period ago",
    )
    sub.add_argument(
        "--grace", type=duration, default=timedelta(days=7), help="default: 7d (e.g. 0s, 30d)"
    )

    sub = command(
        "adopt",
        cmd_adopt,
        "convert a database made by the TypeScript app in place, then apply newer migrations",
        json=False,
    )
    sub.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the rows the constraints would refuse; change nothing",
    )
    sub.add_argument("--url", help="database URL (default: POSTGRES_URL)")
    sub.add_argument(
        "--remove-shims",
        action="store_true",
        help="drop the shims for the TypeScript app, once it no longer writes here",
    )

    command(
        "demo",
        cmd_demo,
        "walk the platform's workflows (POSTGRES_URL, else an embedded PostgreSQL "
        "from the [embedded] extra)",
        json=False,  # a walk-through for people
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except migrate.LockTimeout as exc:  # before CodingAgentDbError: MigrationLockedError is both
        held = (
            str(exc)
            if isinstance(exc, MigrationLockedError)
            else "another migration holds the lock (coding-agent-db status shows since when)"
        )
        _fail(args, f"{held}; if none is running, remove it with: coding-agent-db break-lock")
    except CodingAgentDbError as exc:
        _fail(args, str(exc))
    except DATABASE_ERRORS as exc:
        _fail(args, f"database error: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        _fail(args, "interrupted")
    return 1


def _fail(args: argparse.Namespace, message: str) -> None:
    if getattr(args, "json", False):
        emit_json({"error": message})
    print(f"{PROG} {args.command}: {message}", file=sys.stderr)
