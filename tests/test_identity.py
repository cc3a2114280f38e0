"""Sign-in (upsert_user), user lookups and linked accounts."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest

import coding_agent_db as cadb
from tests.conftest import MakeUser, checks, recorded_queries

Provider = Literal["github", "vercel"]


def new_identity(provider: Provider = "github", **fields: Any) -> cadb.NewUser:
    """A sign-in of a never-seen identity, with distinctive made-up tokens."""
    values: dict[str, Any] = {
        "external_id": secrets.token_hex(8),
        "access_token": f"access-{secrets.token_hex(16)}",
        "refresh_token": f"refresh-{secrets.token_hex(16)}",
        "scope": "repo read:user",
        "username": "octocat",
        "email": "octo@example.com",
        "name": "The Octocat",
        "avatar_url": "https://avatars.example.com/u/1",
    }
    values.update(fields)
    return cadb.NewUser(provider=provider, **values)


def new_account(**fields: Any) -> cadb.NewAccount:
    """A GitHub account to link, with distinctive made-up tokens."""
    values: dict[str, Any] = {
        "external_user_id": secrets.token_hex(8),
        "access_token": f"gho-{secrets.token_hex(16)}",
        "refresh_token": f"ghr-{secrets.token_hex(16)}",
        "scope": "repo",
        "username": "linked-octocat",
    }
    values.update(fields)
    return cadb.NewAccount(**values)


# ---------------------------------------------------------------- sign-in


async def test_first_sign_in_creates_a_user(conn: cadb.Connection) -> None:
    identity = new_identity("vercel")
    assert (
        await cadb.get_user_by_provider(
            provider="vercel", external_id=identity.external_id, conn=conn
        )
        is None
    )

    user = await cadb.upsert_user(identity, conn=conn)

    assert (user.provider, user.external_id) == ("vercel", identity.external_id)
    assert (user.username, user.email, user.name, user.avatar_url, user.scope) == (
        identity.username,
        identity.email,
        identity.name,
        identity.avatar_url,
        identity.scope,
    )
    assert await cadb.get_user(user_id=user.id, conn=conn) == user
    assert (
        await cadb.get_user_by_provider(
            provider="vercel", external_id=identity.external_id, conn=conn
        )
        == user
    )
    tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token, tokens.scope) == (
        identity.access_token,
        identity.refresh_token,
        identity.scope,
    )


async def test_signing_in_again_updates_tokens_profile_and_last_login_of_the_same_user(
    conn: cadb.Connection,
) -> None:
    first = await cadb.upsert_user(new_identity("github"), conn=conn)
    again = new_identity(
        "github",
        external_id=first.external_id,
        access_token="access-renewed",
        refresh_token="refresh-renewed",
        scope="repo workflow",
        username="octocat-renamed",
        email="renamed@example.com",
        name="Renamed Octocat",
        avatar_url="https://avatars.example.com/u/2",
    )

    second = await cadb.upsert_user(again, conn=conn)

    assert second.id == first.id
    assert second.last_login_at > first.last_login_at
    assert second.created_at == first.created_at
    assert (second.username, second.email, second.name, second.avatar_url, second.scope) == (
        "octocat-renamed",
        "renamed@example.com",
        "Renamed Octocat",
        "https://avatars.example.com/u/2",
        "repo workflow",
    )
    assert await cadb.get_user(user_id=first.id, conn=conn) == second
    tokens = await cadb.get_user_tokens(user_id=first.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token, tokens.scope) == (
        "access-renewed",
        "refresh-renewed",
        "repo workflow",
    )


async def test_github_sign_in_of_a_linked_account_signs_in_the_linked_user(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    owner = await make_user(provider="vercel")
    link = new_account()
    await cadb.link_account(user_id=owner.id, account=link, conn=conn)

    signed_in = await cadb.upsert_user(
        new_identity("github", external_id=link.external_user_id), conn=conn
    )

    assert signed_in.id == owner.id
    assert signed_in.provider == "vercel"
    assert signed_in.last_login_at > owner.last_login_at
    assert (
        await cadb.get_user_by_provider(
            provider="github", external_id=link.external_user_id, conn=conn
        )
        is None
    )
    stored = await cadb.get_user(user_id=owner.id, conn=conn)
    assert stored is not None
    assert stored.last_login_at == signed_in.last_login_at


async def test_github_sign_in_of_a_linked_account_records_the_login_and_keeps_the_link(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    """The app's upsertUser only sets lastLoginAt here: a GitHub App link's
    refresh token, expiry and scope must survive a sign-in that lacks them."""
    owner = await make_user(provider="vercel", access_token="vercel-token")
    expires = datetime.now(UTC) + timedelta(hours=8)
    link = new_account(
        access_token="gho-old", refresh_token="ghr-old", expires_at=expires, scope="repo"
    )
    await cadb.link_account(user_id=owner.id, account=link, conn=conn)

    signed_in = await cadb.upsert_user(
        new_identity(
            "github",
            external_id=link.external_user_id,
            access_token="gho-new",
            username="octocat-now",
        ),
        conn=conn,
    )

    assert signed_in.id == owner.id
    assert signed_in.last_login_at > owner.last_login_at
    tokens = await cadb.get_account_tokens(user_id=owner.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token, tokens.scope, tokens.expires_at) == (
        "gho-old",
        "ghr-old",
        "repo",
        expires,
    )
    account = await cadb.get_account(user_id=owner.id, conn=conn)
    assert account is not None
    assert account.username == link.username
    assert account.external_user_id == link.external_user_id
    # The user's own (Vercel) sign-in tokens are not replaced by GitHub's.
    own = await cadb.get_user_tokens(user_id=owner.id, conn=conn)
    assert own is not None
    assert own.access_token == "vercel-token"


async def test_vercel_sign_in_never_goes_through_a_github_link(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    owner = await make_user(provider="vercel")
    link = new_account()
    await cadb.link_account(user_id=owner.id, account=link, conn=conn)

    newcomer = await cadb.upsert_user(
        new_identity("vercel", external_id=link.external_user_id), conn=conn
    )

    assert newcomer.id != owner.id
    assert newcomer.provider == "vercel"
    tokens = await cadb.get_account_tokens(user_id=owner.id, conn=conn)
    assert tokens is not None
    assert tokens.access_token == link.access_token


async def test_github_sign_in_after_unlinking_creates_a_new_user(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    owner = await make_user(provider="vercel")
    link = new_account()
    await cadb.link_account(user_id=owner.id, account=link, conn=conn)
    await cadb.unlink_account(user_id=owner.id, conn=conn)

    signed_in = await cadb.upsert_user(
        new_identity("github", external_id=link.external_user_id), conn=conn
    )

    assert signed_in.id != owner.id
    assert (signed_in.provider, signed_in.external_id) == ("github", link.external_user_id)


@pytest.mark.parametrize("provider", ["github", "vercel"])
async def test_concurrent_first_sign_ins_of_one_identity_create_one_user(
    provider: Provider,
) -> None:
    external_id = secrets.token_hex(8)
    identities = [
        new_identity(provider, external_id=external_id, access_token=f"access-{n}")
        for n in range(10)
    ]

    users = await asyncio.gather(*(cadb.upsert_user(identity) for identity in identities))

    assert len({user.id for user in users}) == 1
    stored = await cadb.get_user_by_provider(provider=provider, external_id=external_id)
    assert stored is not None
    assert stored.id == users[0].id
    tokens = await cadb.get_user_tokens(user_id=stored.id)
    assert tokens is not None
    assert tokens.access_token in {identity.access_token for identity in identities}


async def test_oauth_tokens_are_stored_encrypted(conn: cadb.Connection) -> None:
    identity = new_identity("vercel")
    user = await cadb.upsert_user(identity, conn=conn)
    account = new_account()
    await cadb.link_account(user_id=user.id, account=account, conn=conn)
    plaintexts = [
        identity.access_token,
        identity.refresh_token,
        account.access_token,
        account.refresh_token,
    ]

    rows = [row["row_text"] async for row in checks.dump_all_rows(conn)]

    assert any(user.id in row for row in rows)
    for plaintext in plaintexts:
        assert plaintext is not None
        assert not any(plaintext in row for row in rows)
    # ... and they still decrypt for their consumer.
    user_tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    account_tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)
    assert user_tokens is not None
    assert account_tokens is not None
    assert [
        user_tokens.access_token,
        user_tokens.refresh_token,
        account_tokens.access_token,
        account_tokens.refresh_token,
    ] == plaintexts


async def test_oauth_tokens_are_redacted_in_reprs(conn: cadb.Connection) -> None:
    identity = new_identity("github")
    user = await cadb.upsert_user(identity, conn=conn)
    account = new_account()
    linked = await cadb.link_account(user_id=user.id, account=account, conn=conn)
    user_tokens = await cadb.get_user_tokens(user_id=user.id, conn=conn)
    account_tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)

    shown = [repr(value) for value in (identity, account, user, linked)]
    shown += [repr(user_tokens), repr(account_tokens), str(user_tokens)]

    secrets_ = [
        identity.access_token,
        identity.refresh_token,
        account.access_token,
        account.refresh_token,
    ]
    for text in shown:
        for secret in secrets_:
            assert secret is not None
            assert secret not in text
    assert "<redacted>" in repr(identity)
    assert "<redacted>" in repr(user_tokens)


# ---------------------------------------------------------------- lookups and deletion


async def test_lookups_of_unknown_ids_return_none(conn: cadb.Connection) -> None:
    unknown = f"unknown-{secrets.token_hex(8)}"

    assert await cadb.get_user(user_id=unknown, conn=conn) is None
    assert (
        await cadb.get_user_by_provider(provider="github", external_id=unknown, conn=conn) is None
    )
    assert (
        await cadb.get_user_by_provider(provider="vercel", external_id=unknown, conn=conn) is None
    )
    assert await cadb.get_user_by_github_account(external_user_id=unknown, conn=conn) is None
    assert await cadb.get_user_tokens(user_id=unknown, conn=conn) is None


async def test_get_user_by_github_account_finds_the_linked_user(
    conn: cadb.Connection, user: cadb.User
) -> None:
    link = new_account()
    await cadb.link_account(user_id=user.id, account=link, conn=conn)

    found = await cadb.get_user_by_github_account(external_user_id=link.external_user_id, conn=conn)

    assert found is not None
    assert found.id == user.id


async def test_deleting_an_unknown_user_raises_not_found(
    conn: cadb.Connection, user: cadb.User
) -> None:
    with pytest.raises(cadb.NotFoundError):
        await cadb.delete_user(user_id=f"unknown-{secrets.token_hex(8)}", conn=conn)
    assert await cadb.get_user(user_id=user.id, conn=conn) is not None


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", ""),
        ("external_id", "   "),
        ("provider", "gitlab"),
        ("avatar_url", "not a url"),
        ("avatar_url", "javascript:alert(1)"),
        ("email", "not-an-email"),
        ("email", "two@at@signs"),
        ("access_token", ""),
        ("username", ""),
    ],
)
async def test_an_invalid_sign_in_is_refused_before_any_sql(
    conn: cadb.Connection, field: str, value: str
) -> None:
    identity = new_identity("github")
    fields = {name: getattr(identity, name) for name in identity.__struct_fields__}
    fields[field] = value
    bad = cadb.NewUser(**fields)

    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as caught:
            await cadb.upsert_user(bad, conn=conn)

    assert caught.value.field == field
    assert sent == []
    assert (
        await cadb.get_user_by_provider(
            provider="github", external_id=identity.external_id, conn=conn
        )
        is None
    )


async def test_a_refused_sign_in_does_not_echo_its_token(conn: cadb.Connection) -> None:
    too_long = f"gho-{secrets.token_hex(5_000)}"

    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.upsert_user(new_identity("github", access_token=too_long), conn=conn)

    assert caught.value.field == "access_token"
    assert too_long[:40] not in str(caught.value)
    assert too_long[:40] not in repr(caught.value)


# ---------------------------------------------------------------- linked accounts


async def test_linking_an_account_stores_it_and_its_tokens(
    conn: cadb.Connection, user: cadb.User
) -> None:
    link = new_account(scope="repo read:org")

    account = await cadb.link_account(user_id=user.id, account=link, conn=conn)

    assert (account.user_id, account.provider, account.external_user_id) == (
        user.id,
        "github",
        link.external_user_id,
    )
    assert (account.username, account.scope) == (link.username, "repo read:org")
    assert await cadb.get_account(user_id=user.id, conn=conn) == account
    tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token, tokens.scope) == (
        link.access_token,
        link.refresh_token,
        "repo read:org",
    )


async def test_relinking_updates_tokens_and_external_id_in_place(
    conn: cadb.Connection, user: cadb.User
) -> None:
    first = await cadb.link_account(user_id=user.id, account=new_account(), conn=conn)
    replacement = new_account(
        access_token="gho-replaced", refresh_token=None, username="another-octocat"
    )

    second = await cadb.link_account(user_id=user.id, account=replacement, conn=conn)

    assert second.id == first.id
    assert second.external_user_id == replacement.external_user_id != first.external_user_id
    assert second.username == "another-octocat"
    assert second.updated_at > first.updated_at
    counts = await checks.count_rows(conn, user_id=user.id)
    assert counts["accounts"] == 1
    tokens = await cadb.get_account_tokens(user_id=user.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("gho-replaced", None)
    found = await cadb.get_user_by_github_account(
        external_user_id=replacement.external_user_id, conn=conn
    )
    assert found is not None
    assert found.id == user.id
    assert (
        await cadb.get_user_by_github_account(external_user_id=first.external_user_id, conn=conn)
        is None
    )


async def test_unlinking_twice_raises_not_found(conn: cadb.Connection, user: cadb.User) -> None:
    await cadb.link_account(user_id=user.id, account=new_account(), conn=conn)

    await cadb.unlink_account(user_id=user.id, conn=conn)

    assert await cadb.get_account(user_id=user.id, conn=conn) is None
    assert await cadb.get_account_tokens(user_id=user.id, conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.unlink_account(user_id=user.id, conn=conn)


async def test_another_user_can_neither_see_nor_unlink_a_link(
    conn: cadb.Connection, user: cadb.User, other_user: cadb.User
) -> None:
    account = await cadb.link_account(user_id=user.id, account=new_account(), conn=conn)

    assert await cadb.get_account(user_id=other_user.id, conn=conn) is None
    assert await cadb.get_account_tokens(user_id=other_user.id, conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.unlink_account(user_id=other_user.id, conn=conn)

    assert await cadb.get_account(user_id=user.id, conn=conn) == account


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", "gitlab"),
        ("external_user_id", ""),
        ("external_user_id", " "),
        ("access_token", ""),
        ("username", ""),
    ],
)
async def test_an_invalid_link_is_refused_before_any_sql(
    conn: cadb.Connection, user: cadb.User, field: str, value: str
) -> None:
    link = new_account()
    fields = {name: getattr(link, name) for name in link.__struct_fields__}
    fields[field] = value
    bad = cadb.NewAccount(**fields)

    async with recorded_queries(conn) as sent:
        with pytest.raises(cadb.ValidationError) as caught:
            await cadb.link_account(user_id=user.id, account=bad, conn=conn)

    assert caught.value.field == field
    assert sent == []
    assert await cadb.get_account(user_id=user.id, conn=conn) is None
