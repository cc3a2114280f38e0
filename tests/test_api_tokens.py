"""API tokens: shown once, stored as hashes, capped per user, checked in one statement."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import secrets
import string
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

import coding_agent_db as cadb
from coding_agent_db.api_tokens import is_well_formed
from coding_agent_db.ids import new_id
from tests.conftest import MakeUser, checks, recorded_queries

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
TOKEN_SHAPE = re.compile(r"cadb_(?P<random>[0-9A-Za-z]{32})(?P<checksum>[0-9A-Za-z]{6})")


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mutations(raw: str) -> list[str]:
    """Every token differing from ``raw`` in exactly one character."""
    alphabet = BASE62 + "_-. "
    return [
        raw[:position] + other + raw[position + 1 :]
        for position, current in enumerate(raw)
        for other in alphabet
        if other != current
    ]


def one_mutation_per_position(raw: str) -> list[str]:
    """For each position, ``raw`` with that one character replaced by another base62 one."""
    changed = []
    for position, current in enumerate(raw):
        other = BASE62[(BASE62.index(current) + 1) % len(BASE62)] if current in BASE62 else "x"
        changed.append(raw[:position] + other + raw[position + 1 :])
    return changed


async def live_token_hashes(conn: cadb.Connection, tokens: list[cadb.ApiToken]) -> list[str]:
    return [(await checks.get_raw_token(conn, token_id=token.id))["token_hash"] for token in tokens]


# ---------------------------------------------------------------- the raw token


async def test_a_created_token_has_the_prefix_length_and_randomness(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    user = await make_user()
    created = [
        await cadb.create_api_token(user_id=user.id, name=f"token {n}", conn=conn)
        for n in range(cadb.MAX_LIVE_TOKENS)
    ]

    raws = [each.raw_token for each in created]
    for raw in raws:
        assert raw.startswith("cadb_")
        assert len(raw) == 43
        assert TOKEN_SHAPE.fullmatch(raw), raw[:5]
    randoms = [match["random"] for raw in raws if (match := TOKEN_SHAPE.fullmatch(raw))]
    assert len(set(randoms)) == len(randoms)
    # 32 characters drawn from all 62 (not e.g. 16 hex digits): at least 160 bits.
    assert 32 * math.log2(62) >= 160
    assert len(set("".join(randoms))) > 40
    assert isinstance(created[0], cadb.CreatedApiToken)
    assert created[0].token.user_id == user.id
    assert created[0].token.name == "token 0"


async def test_changing_any_single_character_fails_the_checksum(
    conn: cadb.Connection, user: cadb.User
) -> None:
    raw = (await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)).raw_token
    assert is_well_formed(raw)

    accepted = [changed for changed in mutations(raw) if is_well_formed(changed)]

    assert accepted == []


async def test_a_mistyped_token_is_refused_without_a_query(
    conn: cadb.Connection, user: cadb.User
) -> None:
    raw = (await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)).raw_token

    async with recorded_queries(conn) as sent:
        results = [
            await cadb.authenticate_api_token(changed, conn=conn)
            for changed in one_mutation_per_position(raw)
        ]

    assert len(results) == 43
    assert results == [None] * 43
    assert sent == []
    # The logger does see queries: the intact token makes one.
    async with recorded_queries(conn) as sent:
        owner = await cadb.authenticate_api_token(raw, conn=conn)
    assert owner is not None
    assert len(sent) == 2


async def test_only_the_hash_and_a_display_prefix_are_stored(
    conn: cadb.Connection, user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    raw = created.raw_token

    stored = await checks.get_raw_token(conn, token_id=created.token.id)

    assert stored["token_hash"] == sha256_hex(raw)
    assert stored["token_prefix"] == created.token.token_prefix
    assert raw.startswith(stored["token_prefix"])
    assert stored["token_prefix"].startswith("cadb_")
    assert len("cadb_") < len(stored["token_prefix"])
    # What the table shows of the random part leaves at least 160 bits unknown.
    random_chars_stored = len(stored["token_prefix"]) - len("cadb_")
    assert (32 - random_chars_stored) * math.log2(62) >= 160


async def test_the_raw_token_appears_in_no_row_repr_or_log(
    conn: cadb.Connection, user: cadb.User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
        await cadb.authenticate_api_token(created.raw_token, conn=conn)
        listed = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    raw = created.raw_token
    secret_part = raw[len(created.token.token_prefix) :]

    rows = [row["row_text"] async for row in checks.dump_all_rows(conn)]
    assert any(created.token.id in row for row in rows)
    assert not any(secret_part in row for row in rows)
    assert "'<redacted>'" in repr(created)
    for shown in (repr(created), str(created), repr(created.token), repr(listed)):
        assert secret_part not in shown
        assert sha256_hex(raw) not in shown
    assert not any(secret_part in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------- the cap


async def test_fifty_concurrent_creates_leave_exactly_twenty_tokens(
    make_user: MakeUser,
) -> None:
    user = await make_user()

    results = await asyncio.gather(
        *(cadb.create_api_token(user_id=user.id, name=f"token {n}") for n in range(50)),
        return_exceptions=True,
    )

    created = [result for result in results if isinstance(result, cadb.CreatedApiToken)]
    refused = [result for result in results if isinstance(result, cadb.LimitExceededError)]
    assert len(created) == cadb.MAX_LIVE_TOKENS == 20
    assert len(refused) == 30, [type(result) for result in results]
    listed = await cadb.list_api_tokens(user_id=user.id)
    assert {token.id for token in listed} == {each.token.id for each in created}
    for error in refused:
        assert error.limit == 20
        assert not any(each.raw_token[5:] in str(error) for each in created)


async def test_expired_tokens_do_not_count_toward_the_limit(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    user = await make_user()
    created = [
        await cadb.create_api_token(user_id=user.id, name=f"token {n}", conn=conn)
        for n in range(cadb.MAX_LIVE_TOKENS)
    ]
    with pytest.raises(cadb.LimitExceededError):
        await cadb.create_api_token(user_id=user.id, name="one too many", conn=conn)

    past = datetime.now(UTC) - timedelta(minutes=1)
    for each in created[:3]:
        await checks.set_raw_token_expiry(conn, token_id=each.token.id, expires_at=past)
    for n in range(3):
        await cadb.create_api_token(user_id=user.id, name=f"replacement {n}", conn=conn)

    with pytest.raises(cadb.LimitExceededError):
        await cadb.create_api_token(user_id=user.id, name="one too many", conn=conn)
    # The expired ones were cleaned on the next create: rows stay bounded.
    assert len(await cadb.list_api_tokens(user_id=user.id, conn=conn)) == 20


async def test_revoking_a_token_frees_a_place(conn: cadb.Connection, make_user: MakeUser) -> None:
    user = await make_user()
    created = [
        await cadb.create_api_token(user_id=user.id, name=f"token {n}", conn=conn)
        for n in range(cadb.MAX_LIVE_TOKENS)
    ]

    await cadb.revoke_api_token(user_id=user.id, token_id=created[0].token.id, conn=conn)

    await cadb.create_api_token(user_id=user.id, name="replacement", conn=conn)
    assert len(await cadb.list_api_tokens(user_id=user.id, conn=conn)) == 20


async def test_creating_a_token_for_an_unknown_user_raises_not_found(
    conn: cadb.Connection,
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.create_api_token(user_id=f"unknown-{new_id()}", name="ci", conn=conn)


# ---------------------------------------------------------------- authentication


async def test_authenticating_reads_the_hash_then_records_use_in_one_statement_of_the_owner(
    conn: cadb.Connection, user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    assert created.token.last_used_at is None

    async with recorded_queries(conn) as sent:
        owner = await cadb.authenticate_api_token(created.raw_token, conn=conn)

    assert owner == await cadb.get_user(user_id=user.id, conn=conn)
    # The hash's owner (one key of api_token_hashes), then one statement of that user.
    assert [statement.split("\n", 1)[0] for statement in sent] == [
        "/* coding_agent_db:get_api_token_owner */",
        "/* coding_agent_db:authenticate_api_token */",
    ]
    stored = await checks.get_raw_token(conn, token_id=created.token.id)
    assert stored["last_used_at"] is not None


async def test_each_authentication_moves_last_used_at_forward(
    conn: cadb.Connection, user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)

    await cadb.authenticate_api_token(created.raw_token, conn=conn)
    first = (await checks.get_raw_token(conn, token_id=created.token.id))["last_used_at"]
    await cadb.authenticate_api_token(created.raw_token, conn=conn)
    second = (await checks.get_raw_token(conn, token_id=created.token.id))["last_used_at"]

    assert first is not None
    assert second > first
    [listed] = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    assert listed.last_used_at == second


async def test_a_token_with_a_future_expiry_authenticates(
    conn: cadb.Connection, user: cadb.User
) -> None:
    expires_at = datetime.now(UTC) + timedelta(days=30)
    created = await cadb.create_api_token(
        user_id=user.id, name="ci", expires_at=expires_at, conn=conn
    )

    owner = await cadb.authenticate_api_token(created.raw_token, conn=conn)

    assert created.token.expires_at == expires_at
    assert owner is not None
    assert owner.id == user.id


async def test_an_expired_token_does_not_authenticate(
    conn: cadb.Connection, user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    await checks.set_raw_token_expiry(
        conn, token_id=created.token.id, expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )

    assert await cadb.authenticate_api_token(created.raw_token, conn=conn) is None
    stored = await checks.get_raw_token(conn, token_id=created.token.id)
    assert stored["last_used_at"] is None


async def test_a_revoked_token_does_not_authenticate(
    conn: cadb.Connection, user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    assert await cadb.authenticate_api_token(created.raw_token, conn=conn) is not None

    await cadb.revoke_api_token(user_id=user.id, token_id=created.token.id, conn=conn)

    assert await cadb.authenticate_api_token(created.raw_token, conn=conn) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "cadb_",
        "None",
        "g" * 64,
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "cadb_" + "A" * 38,
        "cadb_" + "A" * 37,
        "ghp_" + "A" * 36,
        " " * 43,
        None,
        b"cadb_",
        12345,
    ],
    ids=repr,
)
async def test_malformed_input_is_refused_without_a_query(
    conn: cadb.Connection, raw: object
) -> None:
    async with recorded_queries(conn) as sent:
        result = await cadb.authenticate_api_token(raw, conn=conn)

    assert result is None
    assert sent == []


async def test_a_token_with_surrounding_whitespace_is_refused_without_a_query(
    conn: cadb.Connection, user: cadb.User
) -> None:
    raw = (await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)).raw_token
    legacy = secrets.token_hex(32)
    padded = [raw + "\n", " " + raw, raw + " ", legacy + "\n"]

    async with recorded_queries(conn) as sent:
        results = [await cadb.authenticate_api_token(each, conn=conn) for each in padded]

    assert results == [None] * len(padded)
    assert [each for each in padded if is_well_formed(each)] == []
    assert sent == []


async def test_typescript_app_tokens_still_authenticate(
    conn: cadb.Connection, user: cadb.User
) -> None:
    raw = secrets.token_hex(32)
    token_id = new_id()
    await checks.insert_raw_token(conn, id=token_id, user_id=user.id, token_hash=sha256_hex(raw))

    async with recorded_queries(conn) as sent:
        owner = await cadb.authenticate_api_token(raw, conn=conn)

    assert owner is not None
    assert owner.id == user.id
    assert len(sent) == 2
    assert (await checks.get_raw_token(conn, token_id=token_id))["last_used_at"] is not None
    assert await cadb.authenticate_api_token(raw.upper(), conn=conn) is None


# ---------------------------------------------------------------- list, rename, revoke


async def test_listing_shows_newest_first_and_never_the_hash(
    conn: cadb.Connection, user: cadb.User
) -> None:
    first = await cadb.create_api_token(user_id=user.id, name="first", conn=conn)
    second = await cadb.create_api_token(user_id=user.id, name="second", conn=conn)

    listed = await cadb.list_api_tokens(user_id=user.id, conn=conn)

    assert [token.id for token in listed] == [second.token.id, first.token.id]
    assert listed[1] == first.token
    assert "token_hash" not in cadb.ApiToken.__struct_fields__
    hashes = {sha256_hex(first.raw_token), sha256_hex(second.raw_token)}
    for token in listed:
        values = msgspec.to_builtins(token).values()
        assert not hashes & {value for value in values if isinstance(value, str)}


async def test_renaming_changes_only_the_name(conn: cadb.Connection, user: cadb.User) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)

    renamed = await cadb.rename_api_token(
        user_id=user.id, token_id=created.token.id, name="deploys", conn=conn
    )

    assert renamed.name == "deploys"
    assert (renamed.id, renamed.token_prefix, renamed.created_at) == (
        created.token.id,
        created.token.token_prefix,
        created.token.created_at,
    )
    [listed] = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    assert listed == renamed
    assert await cadb.authenticate_api_token(created.raw_token, conn=conn) is not None


async def test_renaming_to_a_blank_name_is_refused(conn: cadb.Connection, user: cadb.User) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)

    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.rename_api_token(user_id=user.id, token_id=created.token.id, name=" ", conn=conn)

    assert caught.value.field == "name"


async def test_revoking_removes_the_token_and_twice_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    kept = await cadb.create_api_token(user_id=user.id, name="kept", conn=conn)
    revoked = await cadb.create_api_token(user_id=user.id, name="revoked", conn=conn)

    await cadb.revoke_api_token(user_id=user.id, token_id=revoked.token.id, conn=conn)

    assert [token.id for token in await cadb.list_api_tokens(user_id=user.id, conn=conn)] == [
        kept.token.id
    ]
    with pytest.raises(cadb.NotFoundError):
        await cadb.revoke_api_token(user_id=user.id, token_id=revoked.token.id, conn=conn)


async def test_another_users_token_is_invisible_to_list_rename_and_revoke(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="mine", conn=conn)
    token_id = created.token.id

    assert await cadb.list_api_tokens(user_id=other_user.id, conn=conn) == []
    with pytest.raises(cadb.NotFoundError):
        await cadb.rename_api_token(
            user_id=other_user.id, token_id=token_id, name="stolen", conn=conn
        )
    with pytest.raises(cadb.NotFoundError):
        await cadb.revoke_api_token(user_id=other_user.id, token_id=token_id, conn=conn)

    [listed] = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    assert listed == created.token
    owner = await cadb.authenticate_api_token(created.raw_token, conn=conn)
    assert owner is not None
    assert owner.id == user.id


@pytest.mark.parametrize(
    "expires_at",
    [
        datetime.now(UTC) - timedelta(minutes=1),
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2999, 1, 1),  # naive on purpose
        datetime.now().replace(tzinfo=None) + timedelta(days=1),
    ],
    ids=["just-expired", "long-ago", "naive-future", "naive-tomorrow"],
)
async def test_expires_at_must_be_timezone_aware_and_in_the_future(
    conn: cadb.Connection, user: cadb.User, expires_at: datetime
) -> None:
    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as caught:
            await cadb.create_api_token(
                user_id=user.id, name="ci", expires_at=expires_at, conn=conn
            )

    assert caught.value.field == "expires_at"
    assert sent == []
    assert await cadb.list_api_tokens(user_id=user.id, conn=conn) == []
