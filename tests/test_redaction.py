"""Redaction: secrets that agents print never reach the stored log; ordinary text is untouched."""

from __future__ import annotations

from itertools import pairwise

import pytest

import coding_agent_db as cadb
from coding_agent_db.redact import REDACTED, redact
from tests.conftest import checks

# (line an agent prints, the secret in it, what stays to say what was there)
SECRETS = [
    pytest.param(
        "using key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGH now",
        "api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGH",
        "sk-ant-",
        id="anthropic",
    ),
    pytest.param(
        "OpenAI key: sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_xyz",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_xyz",
        "sk-proj-",
        id="openai-project",
    ),
    pytest.param(
        "old style sk-AbCdEfGhIjKlMnOpQrStUvWx0123 works",
        "AbCdEfGhIjKlMnOpQrStUvWx0123",
        "sk-",
        id="openai-legacy",
    ),
    pytest.param(
        "git push with ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "ghp_",
        id="github-classic",
    ),
    pytest.param(
        "oauth token gho_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 granted",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "gho_",
        id="github-oauth",
    ),
    pytest.param(
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
        "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
        "github_pat_",
        id="github-fine-grained",
    ),
    pytest.param(
        "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "Bearer ",
        id="bearer",
    ),
    pytest.param(
        "GITHUB_TOKEN=v1.0123456789abcdef0123456789abcdef01234567 gh pr create",
        "v1.0123456789abcdef0123456789abcdef01234567",
        "GITHUB_TOKEN=",
        id="github-token-assignment",
    ),
    pytest.param(
        "export OPENAI_API_KEY=abc123def456ghi789jkl",
        "abc123def456ghi789jkl",
        "OPENAI_API_KEY=",
        id="api-key-assignment",
    ),
    pytest.param(
        'config: {"password": "hunter2hunter2", "user": "admin"}',
        "hunter2hunter2",
        '"password": "',
        id="json-password",
    ),
    pytest.param(
        "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY: ",
        id="yaml-secret",
    ),
    pytest.param(
        "connecting to postgresql://admin:s3cr3tPassw0rd@db.example.com:5432/app",
        "s3cr3tPassw0rd",
        "postgresql://admin:",
        id="url-password",
    ),
]

ORDINARY = [
    "max_tokens: 4096",
    "npm install",
    "npm install --save-dev typescript@5.4.2",
    "/home/user/project/src/lib/auth/token-store.ts",
    "src/config/secrets.ts",
    "Used 1234 tokens, max_tokens: 4096, temperature=0.7",
    "TOKEN_LIMIT=4096",
    "git checkout -b feature/task-list",
    "See https://github.com/vercel/next.js/blob/canary/README.md",
    "git clone git@github.com:octo/repo.git",
    "Error: SECRET_NAME is not defined",
    "PASSWORD_RESET_ENABLED=true",
    "Running task-sk-list with 3 workers",
    "✓ 42 tests passed in 3.1s",
]


@pytest.mark.parametrize(("line", "secret", "kept"), SECRETS)
def test_redact_hides_secrets_agents_print(line: str, secret: str, kept: str) -> None:
    redacted = redact(line)
    assert secret not in redacted
    assert REDACTED in redacted
    assert kept in redacted


@pytest.mark.parametrize("line", ORDINARY)
def test_redact_leaves_ordinary_text_alone(line: str) -> None:
    assert redact(line) == line


def test_redact_hides_every_secret_of_a_line() -> None:
    line = (
        "ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx "
        "and token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 "
        "and Bearer abcdefghijklmnop0123"
    )
    redacted = redact(line)
    for secret in ("api03-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"):
        assert secret not in redacted
    assert "abcdefghijklmnop0123" not in redacted
    assert redacted.count(REDACTED) == 3


def test_redact_keeps_the_rest_of_a_url_whose_password_it_hides() -> None:
    line = (
        "git clone https://x-access-token:AbCdEfGhIjKlMnOp0123456789@github.com/octo/repo.git"
        " into /workspace"
    )
    assert redact(line) == (
        "git clone https://x-access-token:[REDACTED]@github.com/octo/repo.git into /workspace"
    )


def test_redact_is_stable_on_already_redacted_text() -> None:
    once = redact("GITHUB_TOKEN=ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
    assert redact(once) == once


@pytest.fixture
async def task(conn: cadb.Connection, user: cadb.User) -> cadb.Task:
    return await cadb.create_task(user_id=user.id, task=cadb.NewTask(prompt="p"), conn=conn)


async def test_secrets_are_redacted_before_the_log_is_stored(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    lines = [param.values[0] for param in SECRETS]
    secrets = [param.values[1] for param in SECRETS]
    entries = [cadb.LogEntry(type="command", message=str(line)) for line in lines]

    await cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=entries, conn=conn)

    raw = await checks.get_raw_task_text(conn, task_id=task.id)
    for secret in secrets:
        assert str(secret) not in raw
    stored = await cadb.get_task_logs(user_id=user.id, task_id=task.id, conn=conn)
    assert stored is not None
    assert [entry.message for entry in stored] == [redact(str(line)) for line in lines]


async def test_ordinary_log_lines_are_stored_unchanged(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    entries = [cadb.LogEntry(type="info", message=line) for line in ORDINARY]
    await cadb.append_task_logs(user_id=user.id, task_id=task.id, entries=entries, conn=conn)
    raw = await checks.get_raw_task(conn, task_id=task.id)
    assert [entry["message"] for entry in raw["logs"]] == ORDINARY


async def test_a_secret_in_a_single_appended_line_is_redacted(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    await cadb.append_task_log(
        user_id=user.id,
        task_id=task.id,
        entry=cadb.LogEntry(
            type="error", message="auth failed for sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"
        ),
        conn=conn,
    )
    raw = await checks.get_raw_task(conn, task_id=task.id)
    (entry,) = raw["logs"]
    assert entry["message"] == f"auth failed for sk-ant-{REDACTED}"


async def test_a_secret_past_the_length_limit_is_redacted_not_cut_in_half(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    secret = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    line = "x" * (cadb.MAX_LOG_MESSAGE_LENGTH - 30) + f" ghp_{secret} " + "y" * 3000
    await cadb.append_task_log(
        user_id=user.id,
        task_id=task.id,
        entry=cadb.LogEntry(type="info", message=line),
        conn=conn,
    )
    raw = await checks.get_raw_task_text(conn, task_id=task.id)
    for start in range(len(secret) - 8):
        assert secret[start : start + 8] not in raw


# ---------------------------------------------------------------- ANSI escapes (issue #10)

GHO = "gho_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
ANTHROPIC = "sk-ant-api03-XXXXXXXXXXXXXXXXXXXXXXXX"
ANSI_LINES = [
    pytest.param(f"\x1b[01;31m\x1b[K{ANTHROPIC}\x1b[m", ANTHROPIC[7:], id="grep-color"),
    pytest.param(f"(\x1b[1m{GHO}\x1b[0m)", GHO[4:], id="bold-in-parens"),
    pytest.param(f"token:\x1b[32m{GHO}\x1b[39m done", GHO[4:], id="colour-after-colon"),
    pytest.param("OPENAI_API_KEY=\x1b[33mabcdefgh12345678\x1b[0m", "abcdefgh12345678", id="assign"),
    pytest.param(f"\x1b]8;;https://x\x07{GHO}\x1b]8;;\x07", GHO[4:], id="osc-hyperlink"),
]


@pytest.mark.parametrize(("line", "secret"), ANSI_LINES)
def test_redaction_sees_through_ansi_escape_sequences(line: str, secret: str) -> None:
    assert secret not in redact(line)
    assert REDACTED in redact(line)


def test_coloured_lines_without_secrets_keep_their_colours() -> None:
    line = "\x1b[32mPASSED\x1b[0m tests/test_x.py::test_y"
    assert redact(line) == line


@pytest.mark.parametrize(("line", "secret"), ANSI_LINES)
async def test_a_coloured_secret_never_reaches_the_stored_log(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task, line: str, secret: str
) -> None:
    await cadb.append_task_log(
        user_id=user.id, task_id=task.id, entry=cadb.LogEntry(type="info", message=line), conn=conn
    )
    assert secret not in await checks.get_raw_task_text(conn, task_id=task.id)


# ---------------------------------------------------------------- streamed agent replies


def split_into(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


SECRET_REPLY = f"Using the key {ANTHROPIC} and the token {GHO} now."


@pytest.mark.parametrize(
    "cuts",
    [
        [SECRET_REPLY.index("sk-ant") + 10],
        [SECRET_REPLY.index("sk-ant") + 3, SECRET_REPLY.index("sk-ant") + 20],
        [SECRET_REPLY.index("gho_") + 2, SECRET_REPLY.index("gho_") + 6],
        [SECRET_REPLY.index("gho_") + 1, SECRET_REPLY.index("gho_") + 15, len(SECRET_REPLY) - 5],
    ],
    ids=["two chunks", "three chunks", "three chunks around the prefix", "four chunks"],
)
async def test_a_secret_split_across_streamed_chunks_is_never_shown_or_kept(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task, cuts: list[int]
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    for chunk in split_into(SECRET_REPLY, cuts):
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta=chunk, conn=conn
        )
        # While the reply streams, what a reader is shown is redacted as a whole.
        shown = await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)
        assert ANTHROPIC[7:] not in shown[-1].content
        assert GHO[4:] not in shown[-1].content

    completed = await cadb.complete_agent_message(user_id=user.id, message_id=reply.id, conn=conn)
    assert completed.content == redact(SECRET_REPLY)
    assert completed.completed_at is not None
    stored = await checks.get_raw_task_messages_text(conn, task_id=task.id)
    assert ANTHROPIC[7:] not in stored
    assert GHO[4:] not in stored


async def test_the_start_of_a_secret_still_streaming_is_not_shown(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    for chunk, shown_now in [
        ("Pushing with gho_AbCd", "Pushing with "),
        ("EfGhIj", "Pushing with "),
        ("KlMnOpQrStUvWxYz0123456789 done", f"Pushing with gho_{REDACTED} done"),
    ]:
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta=chunk, conn=conn
        )
        [_prompt, shown] = await cadb.list_task_messages(
            user_id=user.id, task_id=task.id, conn=conn
        )
        assert shown.content == shown_now


async def test_a_completed_reply_takes_no_more_chunks(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    await cadb.append_agent_message(user_id=user.id, message_id=reply.id, delta="done", conn=conn)
    await cadb.complete_agent_message(user_id=user.id, message_id=reply.id, conn=conn)
    with pytest.raises(cadb.InvalidTransitionError):
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta="late", conn=conn
        )
    again = await cadb.complete_agent_message(user_id=user.id, message_id=reply.id, conn=conn)
    assert again.content == "done"


async def test_completing_another_users_reply_is_like_a_missing_one(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    with pytest.raises(cadb.NotFoundError):
        await cadb.complete_agent_message(user_id=other_user.id, message_id=reply.id, conn=conn)


# ---------------------------------------------------------------- the cap on a reply


async def test_one_huge_chunk_is_cut_at_the_cap_with_a_marker(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    length = await cadb.append_agent_message(
        user_id=user.id, message_id=reply.id, delta="x" * 10_000_000, conn=conn
    )
    assert length == cadb.MAX_AGENT_MESSAGE_LENGTH
    [_prompt, shown] = await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)
    assert len(shown.content) == cadb.MAX_AGENT_MESSAGE_LENGTH
    assert shown.content.endswith("[truncated: reply longer than 100000 characters]")


async def test_chunks_past_the_cap_keep_the_reply_at_the_cap(
    conn: cadb.Connection, user: cadb.User, task: cadb.Task
) -> None:
    reply = await cadb.start_agent_message(user_id=user.id, task_id=task.id, conn=conn)
    chunk = "y" * 30_000
    lengths = [
        await cadb.append_agent_message(
            user_id=user.id, message_id=reply.id, delta=chunk, conn=conn
        )
        for _ in range(5)
    ]
    assert lengths == [30_000, 60_000, 90_000, *[cadb.MAX_AGENT_MESSAGE_LENGTH] * 2]
    [_prompt, shown] = await cadb.list_task_messages(user_id=user.id, task_id=task.id, conn=conn)
    assert shown.content.startswith("y" * 90_000)
    assert shown.content.endswith("[truncated: reply longer than 100000 characters]")
