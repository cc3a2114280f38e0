"""Secrets at rest: authenticated encryption bound to its owner, legacy values
readable, keys configurable, and secrets kept out of reprs, listings and errors.

Keyring-level tests build keyrings from hex strings; API-level tests run
against the session's database under its ``ENCRYPTION_KEY`` and change the
configuration only through ``monkeypatch`` (restored after each test).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

import coding_agent_db as cadb
from coding_agent_db import crypto
from coding_agent_db.crypto import Keyring, SecretContext
from coding_agent_db.models import KeyProvider
from tests.conftest import MakeUser, checks

GENERATE_COMMAND = 'python -c "import secrets; print(secrets.token_hex(32))"'
LEGACY_SHAPE = re.compile(r"^[0-9a-f]{32}:(?:[0-9a-f]{32})+$")
CONTEXT = SecretContext("keys", "value", "user-a", "anthropic")
PLAINTEXT = "sk-ant-api03-Zx9QvL2mT7wK4pR8nB6yH3cJ5dF1gS0a-a1b2"


@pytest.fixture(autouse=True)
def session_key_restored(encryption_key: str) -> Iterator[None]:
    """Every test leaves ENCRYPTION_KEY as the session set it (others depend on it)."""
    yield
    assert os.environ.get("ENCRYPTION_KEY") == encryption_key
    assert "ENCRYPTION_KEYS_PREVIOUS" not in os.environ
    assert "ENCRYPTION_FORMAT" not in os.environ


# ---------------------------------------------------------------- helpers


def new_key() -> str:
    """A fresh 64-hex-character key."""
    return secrets.token_hex(32)


def ring(current: str, previous: str | None = None, fmt: str | None = None) -> Keyring:
    """A keyring built from the given variables' values."""
    return Keyring.from_config(current, previous, fmt)


def key_id(key_hex: str) -> str:
    """The id a keyring gives ``key_hex``."""
    return ring(key_hex).current.id


def split_v1(stored: str) -> tuple[str, bytes]:
    """The key id and the decoded payload (nonce || ciphertext || tag) of a v1 value."""
    version, kid, payload = stored.split(":")
    assert version == "v1"
    return kid, base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def join_v1(kid: str, payload: bytes) -> str:
    """A v1 value from a key id and a payload."""
    return f"v1:{kid}:{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}"


def openssl() -> str:
    path = shutil.which("openssl")
    assert path is not None, "the openssl command line is needed to produce legacy values"
    return path


def openssl_encrypt(key_hex: str, plaintext: bytes) -> str:
    """``plaintext`` in the TypeScript app's format, encrypted by the openssl command line."""
    iv = secrets.token_hex(16)
    result = subprocess.run(
        [openssl(), "enc", "-aes-256-cbc", "-K", key_hex, "-iv", iv, "-nosalt"],
        input=plaintext,
        capture_output=True,
        check=True,
    )
    return f"{iv}:{result.stdout.hex()}"


def openssl_decrypt(key_hex: str, stored: str) -> bytes:
    """A legacy ``ivhex:cthex`` value decrypted by the openssl command line."""
    iv, ciphertext = stored.split(":")
    result = subprocess.run(
        [openssl(), "enc", "-d", "-aes-256-cbc", "-K", key_hex, "-iv", iv, "-nosalt"],
        input=bytes.fromhex(ciphertext),
        capture_output=True,
        check=True,
    )
    return result.stdout


def key_material(key_hex: str) -> list[str]:
    """The forms a key could leak in: hex either case, bytes repr, base64."""
    raw = bytes.fromhex(key_hex)
    return [
        key_hex.lower(),
        key_hex.upper(),
        repr(raw),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


def full_text(exc: BaseException) -> str:
    """An exception as a log would show it: message and formatted traceback."""
    return str(exc) + "".join(traceback.format_exception(exc))


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    "plaintext",
    ["", "x", PLAINTEXT, "ünïcödé 🔑 ключ", "a" * 10_000, '{"A": "b"}'],
    ids=["empty", "one-char", "api-key", "unicode", "long", "json"],
)
def test_keyring_round_trips_text(plaintext: str) -> None:
    keyring = ring(new_key())
    stored = keyring.encrypt(plaintext, CONTEXT)
    assert stored.startswith(f"v1:{keyring.current.id}:")
    assert keyring.decrypt(stored, CONTEXT) == plaintext


def test_encrypting_twice_gives_different_ciphertexts() -> None:
    keyring = ring(new_key())
    first, second = (keyring.encrypt(PLAINTEXT, CONTEXT) for _ in range(2))
    assert first != second
    assert split_v1(first)[1][:12] != split_v1(second)[1][:12]  # fresh nonce each time
    assert PLAINTEXT not in first


async def test_keys_round_trip_through_the_api(conn: cadb.Connection, user: cadb.User) -> None:
    openai_key = f"sk-proj-{secrets.token_hex(20)}"
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)
    await cadb.set_key(user_id=user.id, provider="openai", value=openai_key, conn=conn)

    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT
    assert await cadb.reveal_key(user_id=user.id, provider="openai", conn=conn) == openai_key
    revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    assert revealed.values == {"anthropic": PLAINTEXT, "openai": openai_key}
    assert revealed.unreadable == ()

    replacement = f"sk-ant-api03-{secrets.token_hex(20)}"
    await cadb.set_key(user_id=user.id, provider="anthropic", value=replacement, conn=conn)
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == replacement


async def test_user_tokens_round_trip_through_the_api(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    access, refresh = f"gho_{secrets.token_hex(18)}", f"ghr_{secrets.token_hex(18)}"
    user = await make_user(provider="github", access_token=access, refresh_token=refresh)
    tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == (access, refresh)

    # Signing in again replaces the access token; no refresh token keeps the stored one.
    new_access = f"gho_{secrets.token_hex(18)}"
    await cadb.upsert_user(
        cadb.NewUser(
            provider="github", external_id=user.external_id, access_token=new_access, username="u"
        ),
        conn=conn,
    )
    tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == (new_access, refresh)


async def test_linked_account_tokens_round_trip_through_the_api(
    conn: cadb.Connection, user: cadb.User
) -> None:
    access, refresh = f"gho_{secrets.token_hex(18)}", f"ghr_{secrets.token_hex(18)}"
    await cadb.link_account(
        user_id=user.id,
        account=cadb.NewAccount(
            external_user_id=secrets.token_hex(6),
            access_token=access,
            refresh_token=refresh,
            username="octo",
        ),
        conn=conn,
    )
    tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == (access, refresh)


async def test_connector_secrets_round_trip_through_the_api(
    conn: cadb.Connection, user: cadb.User
) -> None:
    env = {"GITHUB_TOKEN": f"ghp_{secrets.token_hex(18)}", "REGION": "eu"}
    client_secret = f"cs_{secrets.token_hex(16)}"
    connector = await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(
            name="mcp",
            base_url="https://mcp.example.com",
            oauth_client_id="client",
            oauth_client_secret=client_secret,
            env=env,
        ),
        conn=conn,
    )
    launch = await cadb.get_connector_launch(user_id=user.id, connector_id=connector.id, conn=conn)
    assert launch is not None
    assert launch.env == env
    assert launch.oauth_client_secret == client_secret

    # An update that leaves the secrets out keeps them; a new env replaces the old one.
    update = cadb.NewConnector(name="mcp2", base_url="https://mcp.example.com")
    await cadb.update_connector(
        user_id=user.id, connector_id=connector.id, connector=update, conn=conn
    )
    launch = await cadb.get_connector_launch(user_id=user.id, connector_id=connector.id, conn=conn)
    assert launch is not None
    assert (launch.env, launch.oauth_client_secret) == (env, client_secret)
    new_env = {"OTHER": f"v-{secrets.token_hex(8)}"}
    await cadb.update_connector(
        user_id=user.id,
        connector_id=connector.id,
        connector=cadb.NewConnector(name="mcp2", base_url="https://mcp.example.com", env=new_env),
        conn=conn,
    )
    launch = await cadb.get_connector_launch(user_id=user.id, connector_id=connector.id, conn=conn)
    assert launch is not None
    assert launch.env == new_env


# ---------------------------------------------------------------- tampering


def test_every_altered_byte_of_a_v1_value_is_refused() -> None:
    keyring = ring(new_key())
    stored = keyring.encrypt(PLAINTEXT, CONTEXT)
    kid, payload = split_v1(stored)
    assert len(payload) == 12 + len(PLAINTEXT) + 16  # nonce, ciphertext, tag

    refused = 0
    for position in range(len(payload)):
        for flip in (0x01, 0x80, 0xFF):
            altered = bytearray(payload)
            altered[position] ^= flip
            with pytest.raises(cadb.DecryptionError):
                keyring.decrypt(join_v1(kid, bytes(altered)), CONTEXT)
            refused += 1
    assert refused == 3 * len(payload)
    assert keyring.decrypt(stored, CONTEXT) == PLAINTEXT  # the original still decrypts


def test_truncated_or_extended_v1_values_are_refused() -> None:
    keyring = ring(new_key())
    kid, payload = split_v1(keyring.encrypt(PLAINTEXT, CONTEXT))
    variants = [
        payload[:-1],  # tag cut short
        payload[:-16],  # no tag
        payload[:12],  # nonce only
        payload[:5],  # part of a nonce
        b"",
        payload + b"\x00",
        payload[1:],  # nonce shifted
        payload[:12] + payload[13:],  # a ciphertext byte dropped
    ]
    for variant in variants:
        with pytest.raises(cadb.DecryptionError):
            keyring.decrypt(join_v1(kid, variant), CONTEXT)


def test_altered_prefix_or_key_id_is_refused() -> None:
    current, other = new_key(), new_key()
    keyring = ring(current, other)
    stored = keyring.encrypt(PLAINTEXT, CONTEXT)
    kid, payload_text = stored.split(":")[1:]
    flipped_id = kid[:-1] + ("0" if kid[-1] != "0" else "1")
    variants = [
        f"v2:{kid}:{payload_text}",
        f"V1:{kid}:{payload_text}",
        f"v1 :{kid}:{payload_text}",
        f"{kid}:{payload_text}",
        payload_text,
        f"v1:{flipped_id}:{payload_text}",
        # (an id of digits only has no upper case: that would be no alteration)
        *([f"v1:{kid.upper()}:{payload_text}"] if kid.upper() != kid else []),
        f"v1::{payload_text}",
        f"v1:{kid}{payload_text}",
        f"v1:{key_id(other)}:{payload_text}",  # another configured key's id
    ]
    for variant in variants:
        with pytest.raises(cadb.DecryptionError):
            keyring.decrypt(variant, CONTEXT)


@pytest.mark.parametrize(
    "elsewhere",
    [
        CONTEXT._replace(table="accounts"),
        CONTEXT._replace(column="access_token"),
        CONTEXT._replace(user_id="user-b"),
        CONTEXT._replace(row_key="openai"),
        CONTEXT._replace(row_key=""),
        # Pieces shifted between fields must not make an equal context.
        SecretContext("keys", "value", "user-aanthropic", ""),
        SecretContext("keys", "valueuser-a", "", "anthropic"),
    ],
    ids=["table", "column", "user", "row", "no-row", "shifted-user", "shifted-column"],
)
def test_value_moved_to_another_context_is_refused(elsewhere: SecretContext) -> None:
    keyring = ring(new_key())
    stored = keyring.encrypt(PLAINTEXT, CONTEXT)
    with pytest.raises(cadb.DecryptionError):
        keyring.decrypt(stored, elsewhere)


async def test_value_copied_to_another_users_row_is_refused(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    b_anthropic, b_openai = f"sk-ant-api03-{secrets.token_hex(20)}", f"sk-{secrets.token_hex(20)}"
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)
    await cadb.set_key(user_id=other_user.id, provider="anthropic", value=b_anthropic, conn=conn)
    await cadb.set_key(user_id=other_user.id, provider="openai", value=b_openai, conn=conn)

    stolen = await checks.get_raw_key_value(conn, user_id=user.id, provider="anthropic")
    await checks.set_raw_key_value(conn, user_id=other_user.id, provider="anthropic", value=stolen)

    with pytest.raises(cadb.DecryptionError):
        await cadb.reveal_key(user_id=other_user.id, provider="anthropic", conn=conn)

    listed = {key.provider: key for key in await cadb.list_keys(user_id=other_user.id, conn=conn)}
    assert listed["anthropic"].unreadable is True
    assert listed["anthropic"].preview is None
    assert listed["openai"].unreadable is False
    assert listed["openai"].preview == crypto.mask(b_openai)
    got = await cadb.get_key(user_id=other_user.id, provider="anthropic", conn=conn)
    assert got is not None
    assert (got.unreadable, got.preview) == (True, None)

    revealed = await cadb.reveal_keys(user_id=other_user.id, conn=conn)
    assert revealed.unreadable == ("anthropic",)
    assert revealed.values == {"openai": b_openai}

    # The owner's value is untouched.
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT


async def test_value_copied_to_another_row_of_the_same_user_is_refused(
    conn: cadb.Connection, user: cadb.User
) -> None:
    openai_key = f"sk-{secrets.token_hex(20)}"
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)
    await cadb.set_key(user_id=user.id, provider="openai", value=openai_key, conn=conn)
    copied = await checks.get_raw_key_value(conn, user_id=user.id, provider="anthropic")
    await checks.set_raw_key_value(conn, user_id=user.id, provider="openai", value=copied)

    with pytest.raises(cadb.DecryptionError):
        await cadb.reveal_key(user_id=user.id, provider="openai", conn=conn)
    revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    assert revealed.values == {"anthropic": PLAINTEXT}
    assert revealed.unreadable == ("openai",)


async def test_token_copied_to_another_user_or_column_is_refused(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    a = await make_user(access_token=f"gho_{secrets.token_hex(18)}", refresh_token="ghr_aaaa")
    b = await make_user(access_token=f"gho_{secrets.token_hex(18)}", refresh_token="ghr_bbbb")
    a_raw = await checks.get_raw_sealed_user_tokens(conn, user_id=a.id)
    b_raw = await checks.get_raw_sealed_user_tokens(conn, user_id=b.id)

    # A's access token in B's row.
    await checks.set_raw_sealed_user_tokens(
        conn,
        user_id=b.id,
        access_token=a_raw["access_token"],
        refresh_token=b_raw["refresh_token"],
    )
    with pytest.raises(cadb.DecryptionError):
        await cadb.get_user_tokens(user_id=b.id, conn=conn)

    # A's access token in A's own refresh_token column.
    await checks.set_raw_sealed_user_tokens(
        conn,
        user_id=a.id,
        access_token=a_raw["access_token"],
        refresh_token=a_raw["access_token"],
    )
    with pytest.raises(cadb.DecryptionError):
        await cadb.get_user_tokens(user_id=a.id, conn=conn)


async def test_connector_secret_copied_to_another_connector_is_refused_and_marked(
    conn: cadb.Connection, user: cadb.User
) -> None:
    env = {"API_TOKEN": f"tok-{secrets.token_hex(16)}"}
    first, second = [
        await cadb.create_connector(
            user_id=user.id,
            connector=cadb.NewConnector(
                name=name,
                base_url="https://mcp.example.com",
                oauth_client_secret=f"cs-{secrets.token_hex(12)}",
                env=env,
            ),
            conn=conn,
        )
        for name in ("a-first", "b-second")
    ]
    first_raw = await checks.get_raw_sealed_connector_secrets(conn, connector_id=first.id)
    second_raw = await checks.get_raw_sealed_connector_secrets(conn, connector_id=second.id)
    await checks.set_raw_sealed_connector_secrets(
        conn,
        connector_id=second.id,
        env=first_raw["env"],
        oauth_client_secret=second_raw["oauth_client_secret"],
    )

    with pytest.raises(cadb.DecryptionError):
        await cadb.get_connector_launch(user_id=user.id, connector_id=second.id, conn=conn)
    listed = {c.id: c for c in await cadb.list_connectors(user_id=user.id, conn=conn)}
    assert listed[first.id].unreadable is False
    assert listed[first.id].env == {"API_TOKEN": crypto.mask(env["API_TOKEN"])}
    assert listed[second.id].unreadable is True
    assert listed[second.id].env == {}
    shown = await cadb.get_connector(user_id=user.id, connector_id=second.id, conn=conn)
    assert shown is not None
    assert shown.unreadable is True

    # The env moved into the OAuth secret column of its own row is refused too.
    await checks.set_raw_sealed_connector_secrets(
        conn, connector_id=first.id, env=first_raw["env"], oauth_client_secret=first_raw["env"]
    )
    with pytest.raises(cadb.DecryptionError):
        await cadb.get_connector_launch(user_id=user.id, connector_id=first.id, conn=conn)


# ---------------------------------------------------------------- wrong key


def test_value_under_another_key_is_refused_without_naming_either_key() -> None:
    key_a, key_b = new_key(), new_key()
    under_a, under_b = ring(key_a), ring(key_b)
    cases = [
        under_a.encrypt(PLAINTEXT, CONTEXT),
        ring(key_a, fmt="legacy").encrypt(PLAINTEXT, CONTEXT),
        openssl_encrypt(key_a, PLAINTEXT.encode()),
    ]
    for stored in cases:
        with pytest.raises(cadb.DecryptionError) as caught:
            under_b.decrypt(stored, CONTEXT)
        text = full_text(caught.value)
        for material in key_material(key_a) + key_material(key_b):
            assert material not in text
        assert under_a.decrypt(stored, CONTEXT) == PLAINTEXT


def test_v1_value_with_a_forged_key_id_of_the_configured_key_is_refused() -> None:
    key_a, key_b = new_key(), new_key()
    kid_a, payload = split_v1(ring(key_a).encrypt(PLAINTEXT, CONTEXT))
    assert kid_a != key_id(key_b)
    with pytest.raises(cadb.DecryptionError):
        ring(key_b).decrypt(join_v1(key_id(key_b), payload), CONTEXT)


# ---------------------------------------------------------------- legacy format


@pytest.mark.parametrize(
    "plaintext",
    ["", "x", "exactly-16-bytes", "seventeen-bytes!!", PLAINTEXT, "ünïcödé 🔑", "z" * 1000],
    ids=["empty", "one", "one-block", "block-plus-one", "api-key", "unicode", "long"],
)
def test_legacy_values_encrypted_by_openssl_decrypt(plaintext: str) -> None:
    key = new_key()
    stored = openssl_encrypt(key, plaintext.encode())
    assert LEGACY_SHAPE.match(stored)
    # Legacy values are bound to nothing: any context reads them.
    assert ring(key).decrypt(stored, CONTEXT) == plaintext
    assert ring(key).decrypt(stored, SecretContext("users", "access_token", "u")) == plaintext


def test_legacy_value_decrypts_under_a_previous_key() -> None:
    old, current = new_key(), new_key()
    stored = openssl_encrypt(old, PLAINTEXT.encode())
    assert ring(current, f"{new_key()},{old}").decrypt(stored, CONTEXT) == PLAINTEXT
    with pytest.raises(cadb.DecryptionError):
        ring(current).decrypt(stored, CONTEXT)


async def test_legacy_value_stored_by_the_typescript_app_is_revealed(
    conn: cadb.Connection, user: cadb.User, encryption_key: str
) -> None:
    await cadb.set_key(user_id=user.id, provider="anthropic", value="placeholder", conn=conn)
    legacy = openssl_encrypt(encryption_key, PLAINTEXT.encode())
    await checks.set_raw_key_value(conn, user_id=user.id, provider="anthropic", value=legacy)

    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT
    [listed] = await cadb.list_keys(user_id=user.id, conn=conn)
    assert (listed.preview, listed.unreadable) == ("sk-ant-...a1b2", False)


async def test_legacy_format_setting_writes_values_openssl_decrypts(
    conn: cadb.Connection,
    user: cadb.User,
    encryption_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENCRYPTION_FORMAT", "legacy")
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)
    env = {"API_TOKEN": f"tok-{secrets.token_hex(16)}"}
    connector = await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(name="legacy", base_url="https://mcp.example.com", env=env),
        conn=conn,
    )

    stored = await checks.get_raw_key_value(conn, user_id=user.id, provider="anthropic")
    assert LEGACY_SHAPE.match(stored), stored
    assert openssl_decrypt(encryption_key, stored) == PLAINTEXT.encode()
    stored_env = (await checks.get_raw_sealed_connector_secrets(conn, connector_id=connector.id))[
        "env"
    ]
    assert LEGACY_SHAPE.match(stored_env), stored_env
    assert json.loads(openssl_decrypt(encryption_key, stored_env)) == env
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT

    # Back to the default: new writes are authenticated again, legacy ones still read.
    monkeypatch.delenv("ENCRYPTION_FORMAT")
    await cadb.set_key(
        user_id=user.id, provider="openai", value=f"sk-{secrets.token_hex(8)}", conn=conn
    )
    stored_openai = await checks.get_raw_key_value(conn, user_id=user.id, provider="openai")
    assert stored_openai.startswith(f"v1:{key_id(encryption_key)}:")
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT


# ---------------------------------------------------------------- previous keys


def test_previous_keys_list_is_comma_separated_and_tolerates_spaces() -> None:
    old, older, current = new_key(), new_key(), new_key()
    under_old = ring(old).encrypt(PLAINTEXT, CONTEXT)
    under_older = ring(older).encrypt(PLAINTEXT, CONTEXT)
    keyring = ring(current, f" {old} , {older} ,")
    assert len(keyring.previous) == 2
    assert keyring.decrypt(under_old, CONTEXT) == PLAINTEXT
    assert keyring.decrypt(under_older, CONTEXT) == PLAINTEXT
    assert keyring.encrypt(PLAINTEXT, CONTEXT).startswith(f"v1:{key_id(current)}:")


async def test_value_under_an_old_key_decrypts_while_the_key_is_listed_as_previous(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_key(), new_key()
    monkeypatch.setenv("ENCRYPTION_KEY", old)
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)

    monkeypatch.setenv("ENCRYPTION_KEY", new)
    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", old)
    assert crypto.keyring().current.id == key_id(new)
    assert await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn) == PLAINTEXT
    await cadb.set_key(user_id=user.id, provider="openai", value="sk-under-the-new-key", conn=conn)
    stored = await checks.get_raw_key_value(conn, user_id=user.id, provider="openai")
    assert stored.startswith(f"v1:{key_id(new)}:")

    # Without the old key listed, its values are refused; the new key's still read.
    monkeypatch.delenv("ENCRYPTION_KEYS_PREVIOUS")
    with pytest.raises(cadb.DecryptionError):
        await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn)
    revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    assert revealed.values == {"openai": "sk-under-the-new-key"}
    assert revealed.unreadable == ("anthropic",)

    await cadb.delete_user(user_id=user.id, conn=conn)  # leave no foreign-key rows behind


# ---------------------------------------------------------------- configuration


def assert_no_key_material(exc: BaseException, *keys: str) -> None:
    text = full_text(exc)
    for key in keys:
        assert key not in text
        assert key.strip() not in text


async def test_missing_key_names_the_variable_and_how_to_generate_one(
    conn: cadb.Connection,
    user: cadb.User,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with pytest.raises(cadb.ConfigurationError) as caught:
        Keyring.from_config(None, None, None)
    assert "ENCRYPTION_KEY" in str(caught.value)
    assert GENERATE_COMMAND in str(caught.value)

    # Through the environment (no .env files where it looks), and through the API.
    monkeypatch.chdir(tmp_path)
    for unset in (None, ""):
        if unset is None:
            monkeypatch.delenv("ENCRYPTION_KEY")
        else:
            monkeypatch.setenv("ENCRYPTION_KEY", unset)
        with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_KEY") as caught:
            crypto.keyring()
        assert GENERATE_COMMAND in str(caught.value)
        with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_KEY"):
            await cadb.set_key(user_id=user.id, provider="openai", value="sk-x", conn=conn)
    assert await cadb.get_key(user_id=user.id, provider="openai", conn=conn) is None


BAD_KEYS = {
    "too-short": secrets.token_hex(31),
    "too-long": secrets.token_hex(33),
    "one-char-short": secrets.token_hex(32)[:-1],
    "non-hex": "g" + secrets.token_hex(32)[1:],
    "non-hex-unicode": "é" + secrets.token_hex(32)[1:],
    "base64-of-32-bytes": base64.b64encode(secrets.token_bytes(32)).decode(),
    "128-bit-hex-key": secrets.token_hex(16),
    # 64 characters, but bytes.fromhex() skips the spaces: a 24-byte (AES-192) key.
    "hex-with-inner-spaces-24-bytes": "".join(
        f"{byte:02x}" + (" " if n < 16 else "") for n, byte in enumerate(secrets.token_bytes(24))
    ),
    # 64 characters giving a 16-byte (AES-128) key.
    "hex-with-inner-spaces-16-bytes": "  ".join(f"{byte:02x}" for byte in secrets.token_bytes(15))
    + "    ab",
}


@pytest.mark.parametrize("bad", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_malformed_key_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(cadb.ConfigurationError) as caught:
        ring(bad)
    assert "ENCRYPTION_KEY" in str(caught.value)
    assert_no_key_material(caught.value, bad)


@pytest.mark.parametrize("bad", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_malformed_previous_key_is_refused_without_showing_it(bad: str) -> None:
    good, current = new_key(), new_key()
    with pytest.raises(cadb.ConfigurationError) as caught:
        ring(current, f"{good},{bad}")
    assert "ENCRYPTION_KEYS_PREVIOUS" in str(caught.value)
    assert "entry 2" in str(caught.value)
    assert_no_key_material(caught.value, bad, good, current)


async def test_malformed_key_in_the_environment_is_refused(
    conn: cadb.Connection, user: cadb.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = secrets.token_hex(31)
    monkeypatch.setenv("ENCRYPTION_KEY", bad)
    with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_KEY") as caught:
        await cadb.set_key(user_id=user.id, provider="openai", value="sk-x", conn=conn)
    assert_no_key_material(caught.value, bad)
    monkeypatch.undo()

    monkeypatch.setenv("ENCRYPTION_KEYS_PREVIOUS", f"{new_key()},not-a-key")
    with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_KEYS_PREVIOUS"):
        crypto.keyring()


@pytest.mark.parametrize("fmt", ["gcm", "cbc", "v1", "authenticated-please"])
def test_unknown_encryption_format_is_refused(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_FORMAT"):
        ring(new_key(), None, fmt)
    monkeypatch.setenv("ENCRYPTION_FORMAT", fmt)
    with pytest.raises(cadb.ConfigurationError, match="ENCRYPTION_FORMAT"):
        crypto.keyring()


@pytest.mark.parametrize("fmt", ["legacy", "LEGACY", " authenticated ", "Authenticated"])
def test_encryption_format_names_are_case_and_space_insensitive(fmt: str) -> None:
    assert ring(new_key(), None, fmt).format == fmt.strip().lower()


def test_keyring_and_key_reprs_show_no_key_material() -> None:
    current, old = new_key(), new_key()
    keyring = ring(current, old, "legacy")
    shown = [repr(keyring), str(keyring), repr(keyring.current), str(keyring.current)]
    shown += [repr(key) for key in keyring.previous] + [repr(keyring.previous)]
    for text in shown:
        for material in key_material(current) + key_material(old):
            assert material not in text
    assert keyring.current.id in repr(keyring)
    assert keyring.current.id in repr(keyring.current)


# ---------------------------------------------------------------- no plaintext at rest


async def test_no_plaintext_secret_is_stored_anywhere(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    marker = secrets.token_hex(4)
    access, refresh = f"gho_access{marker}{'A' * 12}", f"ghr_refresh{marker}{'B' * 12}"
    account_access, account_refresh = f"gho_linked{marker}CC", f"ghr_linked{marker}DD"
    keys: dict[KeyProvider, str] = {
        "anthropic": f"sk-ant-api03-{marker}{secrets.token_hex(20)}",
        "openai": f"sk-proj-{marker}{secrets.token_hex(20)}",
        "gemini": f"AIza{marker}{secrets.token_hex(16)}",
        "github": f"ghp_{marker}{secrets.token_hex(16)}",
    }
    env_name = f"SECRET_NAME_{marker.upper()}"
    env = {env_name: f"env-value-{marker}-{secrets.token_hex(8)}", "SHORT": f"short-{marker}"}
    client_secret = f"oauth-client-secret-{marker}"

    user = await make_user(provider="github", access_token=access, refresh_token=refresh)
    await cadb.link_account(
        user_id=user.id,
        account=cadb.NewAccount(
            external_user_id=secrets.token_hex(6),
            access_token=account_access,
            refresh_token=account_refresh,
            username="octo",
        ),
        conn=conn,
    )
    for provider, value in keys.items():
        await cadb.set_key(user_id=user.id, provider=provider, value=value, conn=conn)
    await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(
            name="remote",
            base_url="https://mcp.example.com",
            oauth_client_id="client-id",
            oauth_client_secret=client_secret,
            env=env,
        ),
        conn=conn,
    )
    await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(name="local", type="local", command="npx mcp", env=env),
        conn=conn,
    )
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)

    plaintexts = [
        access,
        refresh,
        account_access,
        account_refresh,
        *keys.values(),
        *env.values(),
        env_name,
        client_secret,
        created.raw_token,
    ]
    rows = [row["row_text"] async for row in checks.dump_all_rows(conn)]
    stored = "\n".join(rows)
    assert user.id in stored  # the dump does include this user's rows
    for plaintext in plaintexts:
        assert plaintext not in stored, plaintext


# ---------------------------------------------------------------- reprs


async def secret_bearing_structs(conn: cadb.Connection, make_user: MakeUser) -> list[object]:
    """One of each secret-bearing Struct, holding secrets that all contain "SeCrEt"."""
    access, refresh = f"gho_SeCrEt{secrets.token_hex(8)}", f"ghr_SeCrEt{secrets.token_hex(8)}"
    new_user = cadb.NewUser(
        provider="github",
        external_id=secrets.token_hex(8),
        access_token=access,
        refresh_token=refresh,
        username="u",
    )
    user = await cadb.upsert_user(new_user, conn=conn)
    tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    new_account = cadb.NewAccount(
        external_user_id=secrets.token_hex(6),
        access_token=f"gho_SeCrEt{secrets.token_hex(8)}",
        refresh_token=f"ghr_SeCrEt{secrets.token_hex(8)}",
        username="octo",
    )
    await cadb.link_account(user_id=user.id, account=new_account, conn=conn)
    account_tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)
    new_connector = cadb.NewConnector(
        name="mcp",
        base_url="https://mcp.example.com",
        oauth_client_id="client",
        oauth_client_secret=f"cs_SeCrEt{secrets.token_hex(8)}",
        env={"TOKEN": f"SeCrEt{secrets.token_hex(8)}"},
    )
    connector = await cadb.create_connector(user_id=user.id, connector=new_connector, conn=conn)
    launch = await cadb.get_connector_launch(user_id=user.id, connector_id=connector.id, conn=conn)
    await cadb.set_key(
        user_id=user.id, provider="anthropic", value=f"sk-ant-SeCrEt{access}", conn=conn
    )
    revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    assert created.raw_token.startswith("cadb_")
    structs: list[object] = [
        new_user,
        tokens,
        new_account,
        account_tokens,
        new_connector,
        launch,
        revealed,
        created,
    ]
    assert all(struct is not None for struct in structs)
    return structs


def secrets_of(struct: object) -> list[str]:
    """The secret values a struct holds (by type)."""
    if isinstance(struct, cadb.CreatedApiToken):
        return [struct.raw_token, struct.raw_token[5:]]
    if isinstance(struct, cadb.RevealedKeys):
        return list(struct.values.values())
    if isinstance(struct, cadb.NewConnector | cadb.ConnectorLaunch):
        assert struct.env is not None
        assert struct.oauth_client_secret is not None
        return [*struct.env.values(), struct.oauth_client_secret]
    assert isinstance(struct, cadb.NewUser | cadb.NewAccount | cadb.OAuthTokens)
    assert struct.refresh_token is not None
    return [struct.access_token, struct.refresh_token]


async def test_secret_bearing_structs_keep_secrets_out_of_repr_and_str(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    structs = await secret_bearing_structs(conn, make_user)
    assert {type(s).__name__ for s in structs} >= {
        "NewUser",
        "OAuthTokens",
        "NewAccount",
        "NewConnector",
        "ConnectorLaunch",
        "RevealedKeys",
        "CreatedApiToken",
    }
    for struct in structs:
        values = secrets_of(struct)
        assert values
        for shown in (repr(struct), str(struct), f"{struct}", f"{struct!r}", repr([struct])):
            assert "<redacted>" in shown, shown
            assert "SeCrEt" not in shown, shown
            for value in values:
                assert value not in shown, shown


async def test_secret_bearing_structs_keep_secrets_out_of_rich_repr(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    """msgspec Structs also have ``__rich_repr__`` (rich's pretty printer and tracebacks)."""
    structs = await secret_bearing_structs(conn, make_user)
    for struct in structs:
        rich_repr = getattr(struct, "__rich_repr__", None)
        if rich_repr is None:
            continue
        shown = repr(list(rich_repr()))
        for value in secrets_of(struct):
            assert value not in shown, f"{type(struct).__name__}: {shown}"


# ---------------------------------------------------------------- masked previews


async def test_key_listing_shows_masked_previews(conn: cadb.Connection, user: cadb.User) -> None:
    anthropic = "sk-ant-api03-" + secrets.token_hex(24) + "-a1b2"
    openai = "sk-proj-" + secrets.token_hex(24) + "wxyz"
    short = "tiny-key"
    await cadb.set_key(user_id=user.id, provider="anthropic", value=anthropic, conn=conn)
    await cadb.set_key(user_id=user.id, provider="openai", value=openai, conn=conn)
    shown = await cadb.set_key(user_id=user.id, provider="cursor", value=short, conn=conn)
    assert shown.preview == "****"

    previews = {key.provider: key.preview for key in await cadb.list_keys(user_id=user.id)}
    assert previews == {
        "anthropic": "sk-ant-...a1b2",
        "cursor": "****",
        "openai": "sk-proj-...wxyz",
    }
    got = await cadb.get_key(user_id=user.id, provider="anthropic", conn=conn)
    assert got is not None
    assert got.preview == "sk-ant-...a1b2"
    assert anthropic not in repr(got)


async def test_connector_listings_show_masked_env_values(
    conn: cadb.Connection, user: cadb.User
) -> None:
    env = {"GITHUB_TOKEN": "ghp_" + secrets.token_hex(16) + "9z9z", "REGION": "eu-west-1"}
    client_secret = f"cs-{secrets.token_hex(16)}"
    created = await cadb.create_connector(
        user_id=user.id,
        connector=cadb.NewConnector(
            name="mcp",
            base_url="https://mcp.example.com",
            oauth_client_secret=client_secret,
            env=env,
        ),
        conn=conn,
    )
    masked = {"GITHUB_TOKEN": "ghp_...9z9z", "REGION": "****"}
    listed = await cadb.list_connectors(user_id=user.id, conn=conn)
    got = await cadb.get_connector(user_id=user.id, connector_id=created.id, conn=conn)
    assert got is not None
    for connector in (created, *listed, got):
        assert connector.env == masked
        assert connector.has_oauth_client_secret is True
        assert connector.unreadable is False
        for secret in (*env.values(), client_secret):
            assert secret not in repr(connector)


@pytest.mark.parametrize(
    ("secret", "preview"),
    [
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-a1b2", "sk-ant-...a1b2"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-...6789"),
        ("sk-proj-abcdefghijklmnopqrstuvwx", "...uvwx"),  # prefix + tail would show over a third
        ("hunter2-foobar99", "...ar99"),
        ("sk-abcdefghijklmnopqrstuvwx", "sk-...uvwx"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_...0123"),
        ("github_pat_11ABCDEFG0123456789_abcdefghij", "github_...ghij"),
        ("abcdefghijklmnopqrstuvwxyz", "...wxyz"),
        ("0123456789abcdef", "...cdef"),  # 16 characters: the shortest with a tail
        ("0123456789abcde", "****"),  # 15 characters
        ("short", "****"),
        ("x", "****"),
        ("", "****"),
    ],
)
def test_mask_rules(secret: str, preview: str) -> None:
    assert crypto.mask(secret) == preview


# ---------------------------------------------------------------- error messages


def decryption_failures() -> dict[str, tuple[Keyring, str, SecretContext, list[str]]]:
    """Ways a stored value fails: (keyring, stored value, context, texts that must not show)."""
    key, other = new_key(), new_key()
    keyring = ring(key)
    stored = keyring.encrypt(PLAINTEXT, CONTEXT)
    kid, payload = split_v1(stored)
    payload_text = stored.split(":")[2]
    tampered = bytearray(payload)
    tampered[-1] ^= 1
    legacy = openssl_encrypt(key, PLAINTEXT.encode())
    legacy_iv, legacy_ct = legacy.split(":")
    not_text = keyring.current.seal(b"\xff\xfe" + PLAINTEXT.encode(), CONTEXT)
    legacy_not_text = openssl_encrypt(key, b"\xff\xfe" + PLAINTEXT.encode())
    hidden = [PLAINTEXT, PLAINTEXT[:20], PLAINTEXT[-20:]]
    v1_hidden = [*hidden, stored, payload_text, payload_text[:24], payload_text[-24:]]
    legacy_hidden = [*hidden, legacy, legacy_iv, legacy_ct, legacy_ct[:32]]
    return {
        "tampered": (keyring, join_v1(kid, bytes(tampered)), CONTEXT, v1_hidden),
        "moved": (keyring, stored, CONTEXT._replace(user_id="user-b"), v1_hidden),
        "unknown-key": (ring(other), stored, CONTEXT, v1_hidden),
        "legacy-wrong-key": (ring(other), legacy, CONTEXT, legacy_hidden),
        "not-a-ciphertext": (keyring, PLAINTEXT, CONTEXT, hidden),
        "legacy-truncated": (keyring, legacy[:-3], CONTEXT, legacy_hidden),
        "v1-not-text": (keyring, not_text, CONTEXT, [*hidden, not_text, not_text[12:]]),
        "legacy-not-text": (keyring, legacy_not_text, CONTEXT, [*hidden, legacy_not_text]),
        "key-id-field-holding-the-payload": (
            keyring,
            f"v1:{payload_text}:{kid}",
            CONTEXT,
            v1_hidden,
        ),
    }


FAILURES = [
    "tampered",
    "moved",
    "unknown-key",
    "legacy-wrong-key",
    "not-a-ciphertext",
    "legacy-truncated",
    "v1-not-text",
    "legacy-not-text",
    "key-id-field-holding-the-payload",
]


@pytest.mark.parametrize("failure", FAILURES)
def test_decryption_errors_never_show_the_ciphertext_or_the_plaintext(failure: str) -> None:
    cases = decryption_failures()
    assert set(cases) == set(FAILURES)
    keyring, stored, context, hidden = cases[failure]
    with pytest.raises(cadb.DecryptionError) as caught:
        keyring.decrypt(stored, context)
    text = full_text(caught.value)
    assert str(context) in str(caught.value)  # names where the value was
    for secret in hidden:
        assert secret not in text, secret


async def test_unreadable_key_listing_logs_no_ciphertext(
    conn: cadb.Connection, user: cadb.User, caplog: pytest.LogCaptureFixture
) -> None:
    await cadb.set_key(user_id=user.id, provider="anthropic", value=PLAINTEXT, conn=conn)
    stored = await checks.get_raw_key_value(conn, user_id=user.id, provider="anthropic")
    kid, payload = split_v1(stored)
    corrupted = join_v1(kid, payload[:-1] + bytes([payload[-1] ^ 1]))
    await checks.set_raw_key_value(conn, user_id=user.id, provider="anthropic", value=corrupted)

    with caplog.at_level(logging.WARNING, logger="coding_agent_db"):
        [listed] = await cadb.list_keys(user_id=user.id, conn=conn)
        revealed = await cadb.reveal_keys(user_id=user.id, conn=conn)
    assert (listed.unreadable, listed.preview) == (True, None)
    assert revealed.values == {}
    assert caplog.records, "an unreadable key is logged"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for hidden in (PLAINTEXT, corrupted, corrupted.split(":")[2], stored.split(":")[2]):
        assert hidden not in logged
    with pytest.raises(cadb.DecryptionError) as caught:
        await cadb.reveal_key(user_id=user.id, provider="anthropic", conn=conn)
    assert corrupted.split(":")[2] not in full_text(caught.value)
