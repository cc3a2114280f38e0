"""The package as its users get it: the built wheel, installed in a virtual
environment of its own, used from a directory that is not this checkout.

Building and installing take ~20 s, so one wheel and one environment serve
every test here (session fixture).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest

import coding_agent_db as cadb
from tests.adoption import build_app_schema, fill_app_data
from tests.conftest import FreshDatabase

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


class Installed(NamedTuple):
    wheel: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def _run(argv: list[str | Path], cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from this checkout, installed with its runtime dependencies
    (no extras) into a fresh virtual environment outside the checkout."""
    root = tmp_path_factory.mktemp("installed")
    assert not root.is_relative_to(REPO)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", root, REPO], root)
    assert built.returncode == 0, built.stderr
    (wheel,) = root.glob("coding_agent_db-*.whl")
    venv = root / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    created = _run([base_python, "-m", "venv", venv], root)
    assert created.returncode == 0, created.stderr
    install = _run([venv / "bin" / "python", "-m", "pip", "install", wheel], root)
    assert install.returncode == 0, install.stderr
    return Installed(wheel=wheel, venv=venv)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A user's own project directory: not the checkout, no yoyo.ini, no migrations/."""
    assert not tmp_path.is_relative_to(REPO)
    return tmp_path


def test_the_wheel_carries_the_type_marker_the_sql_and_the_command(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "coding_agent_db/py.typed" in names
    migrations = {
        n for n in names if re.fullmatch(r"coding_agent_db/_sql/migrations/[^/]+\.sql", n)
    }
    queries = {n for n in names if n.startswith("coding_agent_db/_sql/queries/")}
    assert len(migrations) == 2 * len(list((REPO / "migrations").glob("*.rollback.sql")))
    # Adoption's steps and checks travel too, beside (not among) yoyo's migrations.
    adopt = {n for n in names if n.startswith("coding_agent_db/_sql/migrations/adopt/")}
    assert len(adopt) == len(list((REPO / "migrations" / "adopt").glob("**/*.sql")))
    assert len(queries) == len(list((REPO / "queries").glob("*.sql")))
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "coding-agent-db = coding_agent_db.cli:main" in text
    assert installed.bin("coding-agent-db").exists()


USER_PROGRAM = '''
"""A user's program, checked with mypy --strict against the installed wheel."""

from datetime import timedelta

import coding_agent_db as cadb


async def run() -> None:
    user = await cadb.upsert_user(
        cadb.NewUser(provider="github", external_id="1", access_token="gho_x", username="octo")
    )
    reveal_type(user)
    async with cadb.connection() as conn:
        reveal_type(conn)
        async with cadb.transaction(conn) as tx:
            task = await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=tx)
        reveal_type(task)
        reveal_type(task.logs)
        reveal_type(await cadb.get_task(user_id=user.id, task_id=task.id, conn=conn))
        reveal_type(await cadb.list_tasks(user_id=user.id, limit=5, conn=conn))
        reveal_type((await cadb.reveal_keys(user_id=user.id, conn=conn)).values)
        reveal_type((await cadb.check_rate_limit(user_id=user.id, conn=conn)).reset_at)
        entry = cadb.LogEntry(type="info", message="cloning")
        reveal_type(
            await cadb.append_task_log(user_id=user.id, task_id=task.id, entry=entry, conn=conn)
        )
    reveal_type(await cadb.get_pool())
    created = await cadb.create_api_token(user_id=user.id, name="ci")
    reveal_type(created.token)
    reveal_type(await cadb.authenticate_api_token(created.raw_token))
    reveal_type(await cadb.purge_expired_api_tokens(grace=timedelta(days=1)))
    reveal_type(await cadb.list_connectors(user_id=user.id))
    reveal_type((await cadb.rotate_keys()).unreadable)
    try:
        await cadb.set_setting(user_id=user.id, key="theme", value="dark")
    except cadb.ValidationError as exc:
        reveal_type(exc.field)
'''

EXPECTED_REVEALS = [
    "coding_agent_db.models.User",
    "asyncpg.connection.Connection[asyncpg.protocol.record.Record]"
    " | asyncpg.pool.PoolConnectionProxy[asyncpg.protocol.record.Record]",
    "coding_agent_db.models.Task",
    "list[coding_agent_db.models.LogEntry] | None",
    "coding_agent_db.models.Task | None",
    "list[coding_agent_db.models.TaskSummary]",
    "dict[Literal['anthropic'] | Literal['openai'] | Literal['cursor'] | Literal['gemini']"
    " | Literal['aigateway'] | Literal['github'], str]",
    "datetime.datetime",
    "int",
    "asyncpg.pool.Pool[asyncpg.protocol.record.Record]",
    "coding_agent_db.models.ApiToken",
    "coding_agent_db.models.User | None",
    "int",
    "list[coding_agent_db.models.Connector]",
    "tuple[str, ...]",
    "str",
]


def _mypy(installed: Installed, program: str, cwd: Path) -> tuple[int, list[str], str]:
    """mypy --strict on ``program`` with the installed environment's packages:
    (exit code, revealed types, whole output)."""
    (cwd / "app.py").write_text(program)
    result = _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--verbose",
            "--python-executable",
            installed.python,
            "--cache-dir",
            cwd / ".mypy_cache",
            "app.py",
        ],
        cwd,
    )
    revealed = re.findall(r'Revealed type is "(.*)"', result.stdout)
    return result.returncode, revealed, result.stdout + result.stderr


def test_a_user_program_type_checks_against_the_installed_wheel(
    installed: Installed, user_dir: Path
) -> None:
    code, revealed, output = _mypy(installed, USER_PROGRAM, user_dir)
    assert code == 0, output
    assert "Success: no issues found in 1 source file" in output
    assert revealed == EXPECTED_REVEALS
    assert not [t for t in revealed if "Any" in t]
    # The package (and the asyncpg stubs) came from the installed wheel.
    site = installed.venv / "lib"
    assert re.search(rf"Parsing {re.escape(str(site))}/\S+/coding_agent_db/__init__\.py", output)
    assert re.search(rf"Parsing {re.escape(str(site))}/\S+/asyncpg-stubs/pool\.pyi", output)


def test_every_public_function_is_typed_without_any(installed: Installed, user_dir: Path) -> None:
    functions = [name for name in cadb.__all__ if inspect.isfunction(getattr(cadb, name))]
    models = [name for name in cadb.__all__ if inspect.isclass(getattr(cadb, name))]
    assert len(functions) > 60
    program = "import coding_agent_db as cadb\n" + "".join(
        f"reveal_type(cadb.{name})\n" for name in functions + models
    )
    code, revealed, output = _mypy(installed, program, user_dir)
    assert code == 0, output
    assert len(revealed) == len(functions) + len(models)
    # An async function returns Coroutine[Any, Any, T]: those two Anys are the
    # coroutine protocol's, not the package's.
    untyped = [
        t for t in revealed if "Any" in t.replace("typing.Coroutine[Any, Any, ", "Coroutine[")
    ]
    assert untyped == []


def test_migrate_from_the_installed_wheel_on_an_empty_database(
    installed: Installed, user_dir: Path, fresh_database: FreshDatabase
) -> None:
    url = fresh_database(migrated=False)
    (user_dir / ".env").write_text(f"POSTGRES_URL={url}\n")
    environment = {k: v for k, v in os.environ.items() if k != "POSTGRES_URL"}
    command = installed.bin("coding-agent-db")

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), *arguments],
            cwd=user_dir,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    where = _run(
        [installed.python, "-c", "import coding_agent_db; print(coding_agent_db.__file__)"],
        user_dir,
    )
    assert where.stdout.startswith(str(installed.venv))

    dry = run("migrate", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    pending = json.loads(dry.stdout)["pending"]
    assert pending[0] == "0001.create-users"
    assert len(pending) == len(list((REPO / "migrations").glob("*.rollback.sql")))

    applied = run("migrate")
    assert applied.returncode == 0, applied.stderr
    assert f"{len(pending)} migrations applied; the schema is current." in applied.stdout
    status = run("status", "--json")
    assert json.loads(status.stdout)["migrations"] == {
        "applied": pending,
        "pending": [],
        "unknown": 0,
    }


async def test_adopt_from_the_installed_wheel_on_the_apps_database(
    installed: Installed, user_dir: Path, fresh_database: FreshDatabase
) -> None:
    url = fresh_database(migrated=False)
    await build_app_schema(url)
    await fill_app_data(url, users=1, tasks_per_user=1)

    adopted = await asyncio.to_thread(
        _run, [installed.python, "-m", "coding_agent_db.adopt", "--url", url], user_dir
    )

    assert adopted.returncode == 0, adopted.stderr
    assert "every row kept: yes" in adopted.stdout
    status = await asyncio.to_thread(
        _run, [installed.bin("coding-agent-db"), "status", "--json"], user_dir, POSTGRES_URL=url
    )
    assert json.loads(status.stdout)["migrations"]["pending"] == []


def _readme_block(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, heading
    return match.group(1)


def test_yoyo_apply_in_a_users_project_with_the_readme_yoyo_ini(
    installed: Installed, user_dir: Path, fresh_database: FreshDatabase
) -> None:
    url = fresh_database(migrated=False)
    (user_dir / "yoyo.ini").write_text(_readme_block("### yoyo in your project", "ini"))
    result = _run([installed.bin("yoyo"), "apply", "--batch"], user_dir, POSTGRES_URL=url)
    assert result.returncode == 0, result.stderr
    status = _run(
        [installed.bin("coding-agent-db"), "status", "--json"], user_dir, POSTGRES_URL=url
    )
    migrations = json.loads(status.stdout)["migrations"]
    assert migrations["pending"] == []
    assert len(migrations["applied"]) == len(list((REPO / "migrations").glob("*.rollback.sql")))


def test_the_readme_quick_start_runs_in_a_users_directory(
    installed: Installed, user_dir: Path, fresh_database: FreshDatabase, encryption_key: str
) -> None:
    url = fresh_database()
    (user_dir / "quickstart.py").write_text(_readme_block("## Quick start", "python"))
    result = _run(
        [installed.python, "quickstart.py"],
        user_dir,
        POSTGRES_URL=url,
        ENCRYPTION_KEY=encryption_key,
    )
    assert result.returncode == 0, result.stderr
    assert "completed ['npm test'] ['anthropic']" in result.stdout


@pytest.mark.parametrize(
    "command", [["coding-agent-db", "demo"], ["python", "-m", "coding_agent_db.demo"]]
)
def test_the_demo_without_the_embedded_extra_says_how_to_install_it(
    installed: Installed, user_dir: Path, command: list[str]
) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "POSTGRES_URL"}
    result = subprocess.run(
        [str(installed.bin(command[0])), *command[1:]],
        cwd=user_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "pip install 'coding-agent-db[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr
