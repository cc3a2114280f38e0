"""Adoption: take over a database made by the TypeScript app's drizzle migrations.

``adopt(url)`` turns such a database (drizzle 0021, the one with
``api_tokens``, or later) into exactly the schema of this package's released
migrations 0001-0010, in place and keeping every row, then records
0001-0010 as applied in yoyo's bookkeeping (``yoyo mark``'s way) and applies
the newer migrations, as ``yoyo apply`` would. drizzle's own journal
(``drizzle.__drizzle_migrations``) is left as it is.

The work is the ordered SQL files of ``migrations/adopt/`` (yoyo reads only
the files at the top of ``migrations/``, so it never runs them), each
idempotent and run in its own transaction, except the ``CREATE INDEX
CONCURRENTLY`` steps (``-- transactional: false``), whose statements run one
by one. Each file's header states its lock level and which tables it scans
or rewrites; the dry run prints them. Interrupted anywhere, a rerun finishes
the job; on an adopted database nothing is run.

Before anything is changed, ``migrations/adopt/checks/refusals.sql`` lists
every row the package's constraints would refuse and what adoption does with
it: ``normalise`` (step 01 rewrites it to the app's own reading), ``stop``
(AdoptionRefusedError: nothing is changed until someone fixes the row) or
``keep``.

Shims keep the app working while it shares the database (see the README):
a trigger filling ``task_messages.user_id`` on the app's inserts, one storing
its ``max_duration`` 0 ("the default") as 300, and ``ON UPDATE CASCADE`` on
the composite message key for its account merge. ``remove_shims(url)`` drops
them once the app is retired.

``python -m coding_agent_db.adopt [--dry-run]`` is the command line.
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import msgspec
import psycopg
from psycopg.rows import dict_row
from yoyo import read_migrations
from yoyo.migrations import MigrationList

from coding_agent_db.errors import CodingAgentDbError
from coding_agent_db.migrate import _backend, apply_migrations, pending_migrations
from coding_agent_db.paths import MIGRATIONS_DIR

__all__ = [
    "ADOPT_DIR",
    "BASELINE",
    "AdoptionError",
    "AdoptionRefusedError",
    "AdoptionReport",
    "NotAdoptableError",
    "PlanStep",
    "Refusal",
    "StepRun",
    "adopt",
    "format_report",
    "load_plan",
    "main",
    "remove_shims",
]

ADOPT_DIR = MIGRATIONS_DIR / "adopt"
CHECKS_DIR = ADOPT_DIR / "checks"
BASELINE = 10
"""Adoption produces the schema of migrations 0001 to 0010 and records them."""

STATEMENT_BREAKPOINT = "--> statement-breakpoint"
LOCK_RETRIES = 5
"""A step that cannot get its locks within its lock_timeout (or loses a deadlock) is retried
this often, after 1, 2, 4... seconds."""
_WRITE_BLOCKING = ("ACCESS EXCLUSIVE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE")
_HEADER = re.compile(r"^-- (?P<key>lock|scans|rewrites|transactional|repeat|then): (?P<value>.*)$")


class AdoptionError(CodingAgentDbError):
    """Adoption cannot go on; the message says why and what to do."""


class NotAdoptableError(AdoptionError):
    """The database is not one this module can adopt (empty, or an older drizzle schema)."""


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """A row the package's constraints would refuse, and what adoption does with it."""

    table_name: str
    row_id: str
    rule: str
    found: str
    action: Literal["normalise", "stop", "keep"]
    fix: str


class AdoptionRefusedError(AdoptionError):
    """Rows need a person's decision (``refusals`` with ``action == 'stop'``); nothing changed."""

    def __init__(self, refusals: tuple[Refusal, ...]) -> None:
        stops = [refusal for refusal in refusals if refusal.action == "stop"]
        super().__init__(
            f"{len(stops)} rows need fixing before adoption (nothing was changed); "
            "run with --dry-run to list them"
        )
        self.refusals = refusals


class PlanStep(msgspec.Struct, frozen=True, kw_only=True):
    """One file of ``migrations/adopt/``: what it does, what it locks, what it reads."""

    name: str
    why: str
    lock: str
    scans: tuple[str, ...]
    rewrites: tuple[str, ...]
    transactional: bool
    repeat: bool
    then: tuple[str, ...]
    path: str

    @property
    def blocks_writes(self) -> bool:
        """Whether the step's lock stops the app's writes while it is held."""
        return self.lock.startswith(_WRITE_BLOCKING)


class StepRun(msgspec.Struct, frozen=True, kw_only=True):
    """A step as it ran: how long (the time its locks were held) and its repetitions."""

    name: str
    seconds: float
    runs: int
    blocks_writes: bool
    lock_retries: int = 0
    """Attempts that found a lock busy past the lock timeout (or lost a deadlock)."""


class AdoptionReport(msgspec.Struct, frozen=True, kw_only=True):
    """What ``adopt`` found and did (or, with ``dry_run``, would do)."""

    dry_run: bool
    already_adopted: bool
    plan: tuple[PlanStep, ...]
    refusals: tuple[Refusal, ...]
    rows_before: dict[str, int]
    rows_after: dict[str, int]
    app_schema: str | None = None
    """The app's drizzle schema version the columns show (0021, 0022 or 0024), if not adopted."""
    drizzle_migrations: int | None = None
    """How many migrations drizzle's journal records (None: no journal)."""
    steps: tuple[StepRun, ...] = ()
    marked: tuple[str, ...] = ()
    """Migrations recorded as applied in yoyo's bookkeeping (0001-0010)."""
    applied: tuple[str, ...] = ()
    """Newer migrations applied after adoption."""
    seconds: float = 0.0

    @property
    def longest_blocking_step(self) -> StepRun | None:
        """The write-blocking step that held its locks longest."""
        blocking = [step for step in self.steps if step.blocks_writes]
        return max(blocking, key=lambda step: step.seconds, default=None)


# ---------------------------------------------------------------- the plan


def _parse_step(path: Path) -> PlanStep:
    headers: dict[str, str] = {}
    why: list[str] = []
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER.match(line)
        if match:
            headers[match["key"]] = match["value"].strip()
        elif not headers:
            why.append(line[2:].strip())

    def tables(key: str) -> tuple[str, ...]:
        value = headers.get(key, "none")
        return () if value == "none" else tuple(part.strip() for part in value.split(","))

    if "lock" not in headers:
        raise AdoptionError(f"{path.name}: header without a '-- lock:' line")
    return PlanStep(
        name=path.stem,
        why=" ".join(why),
        lock=headers["lock"],
        scans=tables("scans"),
        rewrites=tables("rewrites"),
        transactional=headers.get("transactional", "true") != "false",
        repeat="repeat" in headers,
        then=tuple(headers.get("then", "").split()),
        path=str(path),
    )


def load_plan() -> tuple[PlanStep, ...]:
    """The steps of ``migrations/adopt/``, in order."""
    return tuple(_parse_step(path) for path in sorted(ADOPT_DIR.glob("[0-9]*.sql")))


def _drizzle_migrations(conn: psycopg.Connection[dict[str, Any]], has_journal: bool) -> int | None:
    """The number of migrations drizzle's journal records; None without a journal."""
    if not has_journal:
        return None
    row = conn.execute(_check("drizzle-journal.sql")).fetchone()
    assert row is not None
    count: int = row["drizzle_migrations"]
    return count


def _check(name: str) -> bytes:
    return (CHECKS_DIR / name).read_bytes()


# ---------------------------------------------------------------- running


@contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A connection that works through a transaction-mode pooler as well.

    Nothing is set for the session (PgBouncer refuses the ``options`` startup
    parameter, and a session ``SET`` would leak to other clients): each step
    sets its own ``lock_timeout`` with ``SET LOCAL``. No server-side prepared
    statements, which such a pooler mixes up between clients.
    """
    with psycopg.connect(
        url, autocommit=True, row_factory=dict_row, prepare_threshold=None
    ) as conn:
        yield conn


def _counts(conn: psycopg.Connection[dict[str, Any]]) -> dict[str, int]:
    row = conn.execute(_check("counts.sql")).fetchone()
    assert row is not None
    return {table: int(count) for table, count in row.items()}


def _refusals(conn: psycopg.Connection[dict[str, Any]]) -> tuple[Refusal, ...]:
    rows = conn.execute(_check("refusals.sql")).fetchall()
    return tuple(msgspec.convert(row, Refusal) for row in rows)


def _baseline() -> Any:
    """Migrations 0001-0010, as the MigrationList yoyo's backend expects."""
    released = sorted(read_migrations(str(MIGRATIONS_DIR)), key=lambda m: m.id)[:BASELINE]
    return MigrationList(released)


def _baseline_state(url: str, has_yoyo_journal: bool) -> int:
    """How many of 0001-0010 yoyo records as applied (0 without its tables: nothing created)."""
    if not has_yoyo_journal:
        return 0
    backend = _backend(url)
    pending = {migration.id for migration in backend.to_apply(_baseline())}
    return BASELINE - len(pending)


def _run_once(conn: psycopg.Connection[dict[str, Any]], step: PlanStep) -> None:
    """Run the step once: its statements one by one, or all in one transaction."""
    text = Path(step.path).read_text()
    if not step.transactional:
        for statement in text.split(STATEMENT_BREAKPOINT):
            conn.execute(statement.encode())
        return
    released = "".join("\n" + (MIGRATIONS_DIR / name).read_text() for name in step.then)
    with conn.transaction():
        conn.execute((text + released).encode())


def _run_batch(conn: psycopg.Connection[dict[str, Any]], step: PlanStep, after: str) -> str | None:
    """Run one batch of a repeated step from the key ``after``; the batch's last key, or None.

    The position is bound client-side (several statements, one round trip),
    never kept in the session: behind a transaction-mode pooler the next
    batch may run on another server connection.
    """
    text = Path(step.path).read_text()
    with conn.transaction(), psycopg.ClientCursor(conn) as cursor:
        cursor.execute(text.encode(), {"after": after})
        while cursor.nextset():  # the last statement's result: the batch's last key
            pass
        row = cursor.fetchone()
    return None if row is None else str(row["last_id"])


def _run_step(conn: psycopg.Connection[dict[str, Any]], step: PlanStep) -> StepRun:
    started = time.perf_counter()
    runs = retries = 0
    after = ""  # a repeated step's position: the last key of its previous batch
    done = False
    while not done:
        for attempt in range(LOCK_RETRIES + 1):
            try:
                if step.repeat:
                    last = _run_batch(conn, step, after)
                    done, after = last is None, last or after
                else:
                    _run_once(conn, step)
                    done = True
                break
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
                # Busy tables: the step's transaction was rolled back whole; try again.
                if attempt == LOCK_RETRIES:
                    raise AdoptionError(
                        f"step {step.name}: no lock within the lock timeout after "
                        f"{LOCK_RETRIES + 1} attempts; rerun when the database is quieter"
                    ) from exc
                retries += 1
                time.sleep(2**attempt)
        runs += 1
    return StepRun(
        name=step.name,
        seconds=time.perf_counter() - started,
        runs=runs,
        blocks_writes=step.blocks_writes,
        lock_retries=retries,
    )


def adopt(
    url: str,
    *,
    dry_run: bool = False,
    apply_newer: bool = True,
    on_step: Callable[[PlanStep], None] | None = None,
) -> AdoptionReport:
    """Adopt the drizzle-made database at ``url``; see the module docstring.

    ``dry_run`` changes nothing and reports the plan and the refusals.
    ``apply_newer`` applies the migrations after 0010 once adopted.
    ``on_step`` is called before each step (progress; raising stops the run,
    which a rerun then finishes).

    NotAdoptableError if the database is not a drizzle-made one of the app
    (empty: use ``yoyo apply``); AdoptionRefusedError, before any change, if
    rows need a person's decision.
    """
    started = time.perf_counter()
    plan = load_plan()
    try:
        with _connect(url) as conn:
            found = conn.execute(_check("detect.sql")).fetchone()
            assert found is not None
            missing = list(found["missing_tables"])
            done = _baseline_state(url, found["has_yoyo_journal"])
            if done == BASELINE:
                counts = _counts(conn)
                applied = () if dry_run or not apply_newer else _apply_newer(url)
                return AdoptionReport(
                    dry_run=dry_run,
                    already_adopted=True,
                    plan=plan,
                    refusals=(),
                    rows_before=counts,
                    rows_after=counts,
                    applied=applied,
                    seconds=time.perf_counter() - started,
                )
            _check_adoptable(missing, done)
            before = _counts(conn)
            refusals = _refusals(conn)
            found_schema = {
                "app_schema": found["schema_version"],
                "drizzle_migrations": _drizzle_migrations(conn, found["has_drizzle_journal"]),
            }
            if dry_run:
                return AdoptionReport(
                    dry_run=True,
                    already_adopted=False,
                    plan=plan,
                    refusals=refusals,
                    rows_before=before,
                    rows_after=before,
                    seconds=time.perf_counter() - started,
                    **found_schema,
                )
            if any(refusal.action == "stop" for refusal in refusals):
                raise AdoptionRefusedError(refusals)
            runs = []
            for step in plan:
                if on_step is not None:
                    on_step(step)
                runs.append(_run_step(conn, step))
            after = _counts(conn)
    except psycopg.Error as exc:
        raise AdoptionError(f"adoption failed: {type(exc).__name__}: {exc}") from exc
    marked = _mark_baseline(url)
    applied = _apply_newer(url) if apply_newer else ()
    return AdoptionReport(
        dry_run=False,
        already_adopted=False,
        plan=plan,
        refusals=refusals,
        rows_before=before,
        rows_after=after,
        steps=tuple(runs),
        marked=marked,
        **found_schema,
        applied=applied,
        seconds=time.perf_counter() - started,
    )


def _check_adoptable(missing: list[str], done: int) -> None:
    if done:
        raise NotAdoptableError(
            f"yoyo records {done} of migrations 0001-0010 as applied, not all: "
            "this database is neither the app's nor this package's"
        )
    if len(missing) == 8:
        raise NotAdoptableError(
            "no table of the TypeScript app here: for a new database run `yoyo apply --batch`"
        )
    if missing == ["api_tokens"]:
        raise NotAdoptableError(
            "this is the app's schema before drizzle migration 0021 (no api_tokens): "
            "run the app's migrations (drizzle-kit migrate) up to 0021 or later first"
        )
    if missing:
        raise NotAdoptableError(f"not the app's schema: missing tables {', '.join(missing)}")


def _mark_baseline(url: str) -> tuple[str, ...]:
    backend = _backend(url)
    with backend.lock():
        pending = backend.to_apply(_baseline())
        backend.mark_migrations(pending)
    return tuple(migration.id for migration in pending)


def _apply_newer(url: str) -> tuple[str, ...]:
    pending = pending_migrations(url)
    apply_migrations(url)
    return tuple(pending)


def remove_shims(url: str) -> None:
    """Drop the adoption shims (``migrations/adopt/checks/remove-shims.sql``).

    Run it once the TypeScript app no longer writes to the database; the
    schema is then exactly that of migrations 0001-0010.
    """
    try:
        with _connect(url) as conn, conn.transaction():
            conn.execute(_check("remove-shims.sql"))
    except psycopg.Error as exc:
        raise AdoptionError(f"removing the shims failed: {type(exc).__name__}: {exc}") from exc


# ---------------------------------------------------------------- reporting


def format_report(report: AdoptionReport) -> str:
    """The report as a DBA reads it: refusals, then the plan or what ran."""
    lines: list[str] = []
    if report.already_adopted:
        lines.append("already adopted: migrations 0001-0010 are recorded; nothing to do")
        if report.applied:
            lines.append(f"applied newer migrations: {', '.join(report.applied)}")
        return "\n".join(lines)
    if report.app_schema is not None:
        journal = (
            "no drizzle journal"
            if report.drizzle_migrations is None
            else f"drizzle's journal records {report.drizzle_migrations} migrations"
        )
        lines.append(
            f"found: the TypeScript app's schema at drizzle {report.app_schema} ({journal})"
        )
    counts = ", ".join(f"{table} {count}" for table, count in report.rows_before.items())
    lines.append(f"rows: {counts}")
    lines.append("")
    if report.refusals:
        lines.append(f"rows the package's constraints would refuse ({len(report.refusals)}):")
        for refusal in report.refusals:
            lines.append(
                f"  {refusal.action:9} {refusal.table_name} {refusal.row_id}: "
                f"{refusal.found} [{refusal.rule}] -> {refusal.fix}"
            )
        if any(refusal.action == "stop" for refusal in report.refusals):
            lines.append("  adoption stops before any change until the 'stop' rows are fixed")
    else:
        lines.append("rows the package's constraints would refuse: none")
    lines.append("")
    if report.dry_run:
        lines.append("plan (each step is one transaction unless marked 'no transaction'):")
        for step in report.plan:
            notes = []
            if step.scans:
                notes.append(f"scans {', '.join(step.scans)}")
            if step.rewrites:
                notes.append(f"rewrites {', '.join(step.rewrites)}")
            if not step.transactional:
                notes.append("no transaction")
            if step.repeat:
                notes.append("repeated in batches")
            lines.append(f"  {step.name}")
            lines.append(f"      lock: {step.lock}")
            lines.append(f"      {'; '.join(notes) or 'catalog only: reads no table'}")
            lines.append(
                textwrap.fill(step.why, width=96, initial_indent=" " * 6, subsequent_indent=" " * 6)
            )
        lines.append("  then: record 0001-0010 as applied for yoyo, apply newer migrations")
        return "\n".join(lines)
    lines.append("steps run:")
    for run in report.steps:
        blocking = " (blocks writes)" if run.blocks_writes else ""
        repeated = f" x{run.runs}" if run.runs > 1 else ""
        waited = f" ({run.lock_retries} lock retries)" if run.lock_retries else ""
        lines.append(f"  {run.name}{repeated}: {run.seconds:.3f} s{blocking}{waited}")
    longest = report.longest_blocking_step
    if longest is not None:
        lines.append(f"longest write-blocking step: {longest.name}, {longest.seconds:.3f} s")
    lines.append(f"recorded for yoyo: {', '.join(report.marked) or 'nothing'}")
    lines.append(f"applied newer migrations: {', '.join(report.applied) or 'none'}")
    kept = all(report.rows_after[table] >= count for table, count in report.rows_before.items())
    after = ", ".join(f"{table} {count}" for table, count in report.rows_after.items())
    lines.append(f"rows after: {after}")
    lines.append(f"done in {report.seconds:.1f} s; every row kept: {'yes' if kept else 'NO'}")
    return "\n".join(lines)


def run(url: str, *, dry_run: bool = False, remove: bool = False) -> int:
    """``coding-agent-db adopt``: 0 adopted (or planned), 1 refused, not adoptable or failed."""
    try:
        if remove:
            remove_shims(url)
            print("shims removed: the schema is that of migrations 0001-0010")
            return 0
        report = adopt(url, dry_run=dry_run, on_step=_print_step)
    except AdoptionRefusedError as exc:
        print(format_report(_refused_report(exc)))
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except AdoptionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m coding_agent_db.adopt``: the same as ``coding-agent-db adopt``."""
    from coding_agent_db.cli import main as cli_main

    return cli_main(["adopt", *(sys.argv[1:] if argv is None else argv)])


def _print_step(step: PlanStep) -> None:
    print(f"running {step.name} ...", flush=True)


def _refused_report(exc: AdoptionRefusedError) -> AdoptionReport:
    return AdoptionReport(
        dry_run=True,
        already_adopted=False,
        plan=(),
        refusals=exc.refusals,
        rows_before={},
        rows_after={},
    )


if __name__ == "__main__":
    sys.exit(main())
