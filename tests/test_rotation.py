"""Key rotation: every secret rewritten under the new key, in batches,
surviving an interruption, idempotent, and reporting what it cannot read.

Each test works on a database of its own (``fresh_database``) through a pool
of its own, passed as ``conn=`` everywhere, so rewriting every row of every
user does not touch the shared test database.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import TypeAlias

import asyncpg
import pytest

import coding_agent_db as cadb
from coding_agent_db.crypto import Keyring
from coding_agent_db.models import KeyProvider
from tests.conftest import FreshDatabase, checks
from tests.legacy_values import opened_by_two_keys

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


@pytest.fixture(autouse=True)
def session_key_restored(encryption_key: str) -> Iterator[None]:
    """Every test leaves ENCRYPTION_KEY as the session set it (others depend on it)."""
    yield
    assert os.environ.get("ENCRYPTION_KEY") == encryption_key
    assert "ENCRYPTION_KEYS_PREVIOUS" not in os.environ
    assert "ENCRYPTION_FORMAT" not in os.environ


@pytest.fixture
async def pool(fresh_database: FreshDatabase) -> AsyncIterator[Pool]:
    """A pool on a migrated database of the test's own."""
    own = await cadb.create_pool(fresh_database())
    try:
        yield own
    finally:
        await own.close()


def key_id(key_hex: str) -> str:
    return Keyring.from_config(key_hex, None, None).current.id


def openssl_encrypt(key_hex: str, plaintext: bytes) -> str:
    """``plaintext`` in the TypeScript app's format, encrypted by the openssl command line."""
    path = shutil.which("openssl")
    assert path is not None, "the openssl command line is needed to produce legacy values"
    iv = secrets.token_hex(16)
    result = subprocess.run(
        [path, "enc", "-aes-256-cbc", "-K", key_hex, "-iv", iv, "-nosalt"],
        input=plaintext,
        capture_output=True,
        check=True,
    )
    return f"{iv}:{result.stdout.hex()}"


def is_legacy(value: str) -> bool:
    return not value.startswith("v1:")


@dataclass
class Owner:
    """A user of the rotation database and the plaintexts stored for them."""

    user_id: str
    access_token: str
    refresh_token: str | None
    account: tuple[str, str | None] | None
    keys: dict[KeyProvider, str]
    connectors: dict[str, tuple[dict[str, str], str | None]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows of the secret-bearing tables this owner has."""
        return 1 + (self.account is not None) + len(self.keys) + len(self.connectors)


async def populate(pool: Pool, n: int) -> Owner:
    """A user with a varied set of secrets; some optional ones left out by ``n``."""
    refresh = f"ghr_{secrets.token_hex(12)}" if n % 2 == 0 else None
    user = await cadb.upsert_user(
        cadb.NewUser(
            provider="github" if n % 2 == 0 else "vercel",
            external_id=secrets.token_hex(8),
            access_token=f"gho_{secrets.token_hex(12)}",
            refresh_token=refresh,
            username=f"user{n}",
        ),
        conn=pool,
    )
    tokens = await cadb.get_user_tokens(user_id=user.id, conn=pool)
    assert tokens is not None
    account: tuple[str, str | None] | None = None
    if n % 3 != 2:
        account = (
            f"gho_linked_{secrets.token_hex(12)}",
            f"ghr_linked_{secrets.token_hex(12)}" if n % 3 == 0 else None,
        )
        await cadb.link_account(
            user_id=user.id,
            account=cadb.NewAccount(
                external_user_id=secrets.token_hex(6),
                access_token=account[0],
                refresh_token=account[1],
                username="octo",
            ),
            conn=pool,
        )
    providers: list[KeyProvider] = ["anthropic", "openai", "gemini"]
    keys: dict[KeyProvider, str] = {
        provider: f"sk-{provider}-{secrets.token_hex(16)}" for provider in providers[: 1 + n % 3]
    }
    for provider, value in keys.items():
        await cadb.set_key(user_id=user.id, provider=provider, value=value, conn=pool)
    owner = Owner(user.id, tokens.access_token, refresh, account, keys)

    remote_env = {"API_TOKEN": f"tok-{secrets.token_hex(12)}", "REGION": "eu"}
    client_secret = f"cs-{secrets.token_hex(12)}"
    remote = await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(
            name="remote",
            base_url="https://mcp.example.com",
            oauth_client_id="client",
            oauth_client_secret=client_secret,
            env=remote_env,
        ),
        conn=pool,
    )
    owner.connectors[remote.id] = (remote_env, client_secret)
    if n % 2 == 1:
        local_env = {"DB_PASSWORD": f"pw-{secrets.token_hex(12)}"}
        local = await cadb.create_connector(
            user_id=user.id,
            connector=cadb.NewConnector(
                name="local", type="local", command="npx server", env=local_env
            ),
            conn=pool,
        )
        owner.connectors[local.id] = (local_env, None)
    if n == 0:
        bare = await cadb.create_connector(
            user_id=user.id,
            connector=cadb.NewConnector(name="bare", base_url="https://bare.example.com"),
            conn=pool,
        )
        owner.connectors[bare.id] = ({}, None)
    return owner


async def populate_under(
    pool: Pool, monkeypatch: pytest.MonkeyPatch, key: str, count: int, legacy: set[int]
) -> list[Owner]:
    """``count`` owners written under ``key``; those numbered in ``legacy`` in the legacy format."""
    monkeypatch.setenv("ENCRYPTION_KEY", key)
    monkeypatch.delenv("ENCRYPTION_KEYS_PREVIOUS", raising=False)
    owners = []
    for n in range(count):
        if n in legacy:
            monkeypatch.setenv("ENCRYPTION_FORMAT", "legacy")
        else:
            monkeypatch.delenv("ENCRYPTION_FORMAT", raising=False)
        owners.append(await populate(pool, n))
    monkeypatch.delenv("ENCRYPTION_FORMAT", raising=False)
    return owners


async def assert_every_secret_decrypts(pool: Pool, owners: list[Owner]) -> None:
    """Every owner's every secret reads back, through the API, as stored."""
    for owner in owners:
        tokens = await cadb.get_user_tokens(user_id=owner.user_id, conn=pool)
        assert tokens is not None
        assert (tokens.access_token, tokens.refresh_token) == (
            owner.access_token,
            owner.refresh_token,
        )
        account = await cadb.get_account_tokens(user_id=owner.user_id, conn=pool)
        if owner.account is None:
            assert account is None
        else:
            assert account is not None
            assert (account.access_token, account.refresh_token) == owner.account
        revealed = await cadb.reveal_keys(user_id=owner.user_id, conn=pool)
        assert revealed.values == owner.keys
        assert revealed.unreadable == ()
        listed = await cadb.list_keys(user_id=owner.user_id, conn=pool)
        assert not any(key.unreadable for key in listed)
        for connector_id, (env, client_secret) in owner.connectors.items():
            launch = await cadb.get_connector_launch(
                user_id=owner.user_id, connector_id=connector_id, conn=pool
            )
            assert launch is not None
            assert (launch.env, launch.oauth_client_secret) == (env, client_secret)
        shown = {c.id: c for c in await cadb.list_connectors(user_id=owner.user_id, conn=pool)}
        assert set(owner.connectors) <= set(shown)
        assert not any(shown[connector_id].unreadable for connector_id in owner.connectors)


async def raw_values(pool: Pool) -> list[dict[str, str]]:
    """Every stored encrypted value: table_name, column_name, id, value."""
    return [dict(row) async for row in checks.list_raw_sealed_values(pool)]


class Interrupted(Exception):
    """Stands for the process being killed between two batches."""


async def test_rotation_interrupted_then_resumed_leaves_every_secret_under_the_new_key(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_a, key_b = secrets.token_hex(32), secrets.token_hex(32)
    owners = await populate_under(pool, monkeypatch, key_a, count=7, legacy={1, 4})
    # A value the TypeScript app wrote (openssl stands in for it) under key A.
    typescript_key = openssl_encrypt(key_a, owners[0].keys["anthropic"].encode())
    await checks.set_raw_key_value(
        pool, user_id=owners[0].user_id, provider="anthropic", value=typescript_key
    )
    before = await raw_values(pool)
    assert any(is_legacy(row["value"]) for row in before)
    assert all(
        row["value"].startswith(f"v1:{key_id(key_a)}:")
        for row in before
        if row["value"].startswith("v1:")
    )
    total = sum(owner.rows for owner in owners)

    monkeypatch.setenv("ENCRYPTION_KEY", key_b)
    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", key_a)
    await assert_every_secret_decrypts(pool, owners)

    # First run: killed after its second batch.
    progress: list[tuple[int, int]] = []

    def killed_after_two_batches(done: int, of: int) -> None:
        progress.append((done, of))
        if len(progress) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        await cadb.rotate_keys(batch_size=2, on_progress=killed_after_two_batches, conn=pool)
    assert progress == [(2, total), (4, total)]

    halfway = await raw_values(pool)
    assert len(halfway) == len(before)
    under_b = [row for row in halfway if row["value"].startswith(f"v1:{key_id(key_b)}:")]
    assert under_b, "the batches done before the interruption are committed"
    assert len(under_b) < len(halfway), "the interruption left work to do"
    await assert_every_secret_decrypts(pool, owners)

    # Second run: resumes and completes.
    rows_left = {
        (row["table_name"], row["id"])
        for row in halfway
        if not row["value"].startswith(f"v1:{key_id(key_b)}:")
    }
    progress.clear()
    report = await cadb.rotate_keys(
        batch_size=2, on_progress=lambda done, of: progress.append((done, of)), conn=pool
    )
    assert report.unreadable == ()
    assert report.rows == total
    assert report.rewritten == len(rows_left)
    dones = [done for done, _ in progress]
    assert dones == sorted(set(dones)), "done only increases"
    assert all(of == total for _, of in progress)
    assert progress[-1] == (total, total)
    assert all(0 < later - earlier <= 2 for earlier, later in pairwise(dones))

    # The old key can go: everything decrypts under B alone.
    monkeypatch.delenv("ENCRYPTION_KEYS_PREVIOUS")
    await assert_every_secret_decrypts(pool, owners)
    after = await raw_values(pool)
    assert [(r["table_name"], r["column_name"], r["id"]) for r in after] == [
        (r["table_name"], r["column_name"], r["id"]) for r in before
    ], "no value lost, none added"
    for row in after:
        assert row["value"].startswith(f"v1:{key_id(key_b)}:"), dict(row)

    # Running it again rewrites nothing.
    again = await cadb.rotate_keys(batch_size=2, conn=pool)
    assert (again.rows, again.rewritten, again.unreadable) == (total, 0, ())
    assert await raw_values(pool) == after


async def test_rotation_reports_unreadable_values_and_rotates_the_rest(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_a, key_b = secrets.token_hex(32), secrets.token_hex(32)
    owners = await populate_under(pool, monkeypatch, key_a, count=4, legacy={3})
    first, second, third, fourth = owners

    # An altered key value.
    stored = await checks.get_raw_key_value(pool, user_id=second.user_id, provider="anthropic")
    _, kid, payload = stored.split(":")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[20] ^= 0x01
    altered = f"v1:{kid}:{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    await checks.set_raw_key_value(
        pool, user_id=second.user_id, provider="anthropic", value=altered
    )
    altered_key = await cadb.get_key(user_id=second.user_id, provider="anthropic", conn=pool)
    assert altered_key is not None
    # A user's access token moved from another user; their refresh token stays good.
    first_tokens = await checks.get_raw_sealed_user_tokens(pool, user_id=first.user_id)
    third_tokens = await checks.get_raw_sealed_user_tokens(pool, user_id=third.user_id)
    await checks.set_raw_sealed_user_tokens(
        pool,
        user_id=third.user_id,
        access_token=first_tokens["access_token"],
        refresh_token=third_tokens["refresh_token"],
    )
    # A connector env that is not a ciphertext at all; its OAuth secret stays good.
    remote_id = next(iter(fourth.connectors))
    fourth_remote = await checks.get_raw_sealed_connector_secrets(pool, connector_id=remote_id)
    await checks.set_raw_sealed_connector_secrets(
        pool,
        connector_id=remote_id,
        env="garbage",
        oauth_client_secret=fourth_remote["oauth_client_secret"],
    )
    bad_cells = {
        ("keys", "value", altered_key.id),
        ("users", "access_token", third.user_id),
        ("connectors", "env", remote_id),
    }
    before = {
        (r["table_name"], r["column_name"], r["id"]): r["value"] for r in await raw_values(pool)
    }

    monkeypatch.setenv("ENCRYPTION_KEY", key_b)
    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", key_a)
    report = await cadb.rotate_keys(batch_size=2, conn=pool)
    assert sorted(report.unreadable) == sorted(
        f"{table}.{column}:{row_id}" for table, column, row_id in bad_cells
    )
    assert report.rows == sum(owner.rows for owner in owners)

    # The unreadable values are left as they were; every other one is under B now.
    monkeypatch.delenv("ENCRYPTION_KEYS_PREVIOUS")
    after = {
        (r["table_name"], r["column_name"], r["id"]): r["value"] for r in await raw_values(pool)
    }
    assert after.keys() == before.keys()
    for cell, value in after.items():
        if cell in bad_cells:
            assert value == before[cell]
        else:
            assert value.startswith(f"v1:{key_id(key_b)}:"), cell

    # Under B alone, everything but the bad values reads.
    third_tokens_after = await checks.get_raw_sealed_user_tokens(pool, user_id=third.user_id)
    assert third_tokens_after["refresh_token"].startswith(f"v1:{key_id(key_b)}:")
    with pytest.raises(cadb.DecryptionError):
        await cadb.get_user_tokens(user_id=third.user_id, conn=pool)
    revealed = await cadb.reveal_keys(user_id=second.user_id, conn=pool)
    assert revealed.unreadable == ("anthropic",)
    assert revealed.values == {p: v for p, v in second.keys.items() if p != "anthropic"}
    shown = {c.id: c for c in await cadb.list_connectors(user_id=fourth.user_id, conn=pool)}
    assert shown[remote_id].unreadable is True
    third_keys = await cadb.reveal_keys(user_id=third.user_id, conn=pool)
    assert (third_keys.values, third_keys.unreadable) == (third.keys, ())
    fourth_rest = replace(
        fourth, connectors={k: v for k, v in fourth.connectors.items() if k != remote_id}
    )
    await assert_every_secret_decrypts(pool, [first, fourth_rest])

    # A second run reports them again and rewrites nothing.
    again = await cadb.rotate_keys(batch_size=3, conn=pool)
    assert sorted(again.unreadable) == sorted(report.unreadable)
    assert again.rewritten == 0


# ---------------------------------------------------------------- issue #10


async def test_rotation_lists_a_legacy_value_two_keys_open_as_unreadable(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_a, key_b = secrets.token_hex(32), secrets.token_hex(32)
    [owner] = await populate_under(pool, monkeypatch, key_a, count=1, legacy=set())
    ambiguous = opened_by_two_keys(key_a, key_b)
    provider = next(iter(owner.keys))
    await checks.set_raw_key_value(pool, user_id=owner.user_id, provider=provider, value=ambiguous)
    key = await cadb.get_key(user_id=owner.user_id, provider=provider, conn=pool)
    assert key is not None

    monkeypatch.setenv("ENCRYPTION_KEY", key_b)
    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", key_a)
    report = await cadb.rotate_keys(conn=pool)
    assert report.unreadable == (f"keys.value:{key.id}",)
    stored = await checks.get_raw_key_value(pool, user_id=owner.user_id, provider=provider)
    assert stored == ambiguous  # left as it was, never re-encrypted as a guess
    assert report.legacy_remaining == 1
    assert await cadb.count_legacy_secrets(conn=pool) == 1


async def test_verify_finds_a_damaged_value_already_under_the_current_key(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = secrets.token_hex(32)
    [owner] = await populate_under(pool, monkeypatch, key, count=1, legacy=set())
    provider = next(iter(owner.keys))
    stored = await checks.get_raw_key_value(pool, user_id=owner.user_id, provider=provider)
    _, kid, payload = stored.split(":")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-1] ^= 0x01
    damaged = f"v1:{kid}:{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    await checks.set_raw_key_value(pool, user_id=owner.user_id, provider=provider, value=damaged)
    key_row = await cadb.get_key(user_id=owner.user_id, provider=provider, conn=pool)
    assert key_row is not None

    plain = await cadb.rotate_keys(conn=pool)
    assert (plain.unreadable, plain.rewritten) == ((), 0)  # skipped unopened
    verified = await cadb.rotate_keys(verify=True, conn=pool)
    assert verified.unreadable == (f"keys.value:{key_row.id}",)
    assert verified.rewritten == 0


async def test_the_legacy_count_says_when_legacy_reads_can_be_switched_off(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_a, key_b = secrets.token_hex(32), secrets.token_hex(32)
    owners = await populate_under(pool, monkeypatch, key_a, count=3, legacy={0, 2})
    legacy_before = sum(is_legacy(row["value"]) for row in await raw_values(pool))
    assert legacy_before > 0
    assert await cadb.count_legacy_secrets(conn=pool) == legacy_before

    monkeypatch.setenv("ENCRYPTION_KEY", key_b)
    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", key_a)
    report = await cadb.rotate_keys(conn=pool)
    assert (report.unreadable, report.legacy_remaining) == ((), 0)
    assert await cadb.count_legacy_secrets(conn=pool) == 0

    # Now legacy reads can go, and so can the old key.
    monkeypatch.delenv("ENCRYPTION_KEYS_PREVIOUS")
    monkeypatch.setenv("ENCRYPTION_LEGACY_READS", "off")
    try:
        await assert_every_secret_decrypts(pool, owners)
    finally:
        monkeypatch.delenv("ENCRYPTION_LEGACY_READS")
