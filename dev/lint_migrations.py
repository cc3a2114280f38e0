"""Lint every migration with squawk, allowing only the excuses of dev/squawk_excuses.txt.

squawk's rules are those for a live database (lock and statement timeouts,
``NOT VALID`` constraints, concurrent index builds, no table rewrites); its
settings are in ``.squawk.toml``. squawk's own per-file exclusions are
comments inside the files, and released migrations are never edited, so this
runs squawk file by file and holds each finding against the excuses.

Fails when a finding is not excused, when an excuse names a migration that is
not released (``RELEASED``), or when an excuse no longer matches a finding.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
EXCUSES = Path(__file__).resolve().parent / "squawk_excuses.txt"
RELEASED = 10
"""Migrations numbered up to this were applied before squawk ran; only they may be excused."""


@dataclass(frozen=True)
class Excuse:
    pattern: str
    rule: str
    reason: str
    line: int


def read_excuses(path: Path = EXCUSES) -> list[Excuse]:
    """The excuses of ``path``: ``<file glob> <rule> <reason>`` per line, ``#`` comments."""
    excuses = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = text.split(maxsplit=2)
        if len(parts) < 3:
            sys.exit(f"{path}:{number}: expected '<file glob> <rule> <reason>'")
        excuses.append(Excuse(parts[0], parts[1], parts[2], number))
    return excuses


def squawk_findings(squawk: str, migration: Path) -> list[dict[str, object]]:
    """squawk's findings on one migration (JSON reporter)."""
    command = [squawk, "--config", str(ROOT / ".squawk.toml"), "--reporter", "json"]
    if "-- transactional: false" in migration.read_text():
        command.append("--no-assume-in-transaction")
    done = subprocess.run(  # noqa: S603 (the project's own tool on its own files)
        [*command, str(migration)], capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        sys.exit(f"squawk failed on {migration.name}: {done.stderr.strip()}")
    findings: list[dict[str, object]] = json.loads(done.stdout)
    return findings


def main() -> int:
    squawk = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    if squawk is None:
        sys.exit("squawk not found: `make venv` installs it (squawk-cli, dev extra)")
    migrations = sorted(MIGRATIONS.glob("*.sql"))
    excuses = read_excuses()
    problems: list[str] = []
    used: set[Excuse] = set()
    for excuse in excuses:
        matched = [path.name for path in migrations if fnmatch.fnmatch(path.name, excuse.pattern)]
        if not matched:
            problems.append(f"{EXCUSES.name}:{excuse.line}: {excuse.pattern} matches no migration")
        for name in matched:
            if int(name.split(".", 1)[0]) > RELEASED:
                problems.append(
                    f"{EXCUSES.name}:{excuse.line}: {name} is not a released migration "
                    "and may not be excused: make it pass squawk"
                )
    for migration in migrations:
        mine = [e for e in excuses if fnmatch.fnmatch(migration.name, e.pattern)]
        for finding in squawk_findings(squawk, migration):
            excused = [e for e in mine if e.rule == finding["rule_name"]]
            used.update(excused)
            if not excused:
                problems.append(
                    # squawk's JSON counts lines from 0.
                    f"migrations/{migration.name}:{int(str(finding['line'])) + 1}: "
                    f"{finding['rule_name']}: {finding['message']} ({finding['help']})"
                )
    problems += [
        f"{EXCUSES.name}:{e.line}: {e.rule} no longer fires on {e.pattern}: remove the excuse"
        for e in excuses
        if e not in used
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(migrations)
    print(f"squawk: {count} migrations, {len(problems)} problems, {len(used)} excuses used")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
