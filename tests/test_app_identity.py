"""What the TypeScript app's identity callers rely on, call for call.

Sign-in (lib/db/users.ts upsertUser), the GitHub OAuth callback's connect flow
and account merge, getGitHubTokenByUserId, the disconnect route, and the API
token routes.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import coding_agent_db as cadb
from tests.conftest import MakeUser, checks


def github_account(external_user_id: str, **fields: Any) -> cadb.NewAccount:
    return cadb.NewAccount(
        external_user_id=external_user_id,
        access_token=fields.pop("access_token", f"gho_{secrets.token_hex(8)}"),
        username=fields.pop("username", "octocat"),
        **fields,
    )


# ---------------------------------------------------------------- sign-in


async def test_sign_in_updates_only_what_the_provider_sent(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    first = await make_user(
        provider="vercel",
        refresh_token="refresh-1",
        scope="openid email",
        email="jane@example.com",
        name="Jane",
        avatar_url="https://example.com/jane.png",
    )
    again = await cadb.upsert_user(
        cadb.NewUser(
            provider="vercel",
            external_id=first.external_id,
            access_token="access-2",
            username="jane2",
        ),
        conn=conn,
    )
    assert again.id == first.id
    assert (again.username, again.email, again.name, again.avatar_url, again.scope) == (
        "jane2",
        "jane@example.com",
        "Jane",
        "https://example.com/jane.png",
        "openid email",
    )
    tokens = await cadb.get_user_tokens(user_id=first.id, conn=conn)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("access-2", "refresh-1")

    changed = await cadb.upsert_user(
        cadb.NewUser(
            provider="vercel",
            external_id=first.external_id,
            access_token="access-3",
            username="jane2",
            email="jane@new.example.com",
        ),
        conn=conn,
    )
    assert (changed.email, changed.name) == ("jane@new.example.com", "Jane")


# ---------------------------------------------------------------- token resolution


async def test_github_token_resolution_follows_the_apps_order(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    nobody = await make_user(provider="vercel")
    assert await cadb.get_github_token(user_id=nobody.id, conn=conn) is None

    pat_only = await make_user(provider="vercel")
    await cadb.set_key(user_id=pat_only.id, provider="github", value="ghp_pat1", conn=conn)
    assert await cadb.get_github_token(user_id=pat_only.id, conn=conn) == cadb.GitHubToken(
        token="ghp_pat1", source="key"
    )

    github_user = await make_user(provider="github", access_token="gho_signin")
    await cadb.set_key(user_id=github_user.id, provider="github", value="ghp_pat2", conn=conn)
    assert await cadb.get_github_token(user_id=github_user.id, conn=conn) == cadb.GitHubToken(
        token="gho_signin", source="user"
    )

    linked = await make_user(provider="vercel", access_token="vercel-token")
    await cadb.set_key(user_id=linked.id, provider="github", value="ghp_pat3", conn=conn)
    await cadb.link_account(
        user_id=linked.id,
        account=github_account(secrets.token_hex(4), access_token="gho_linked"),
        conn=conn,
    )
    found = await cadb.get_github_token(user_id=linked.id, conn=conn)
    assert found == cadb.GitHubToken(token="gho_linked", source="account")
    assert "gho_linked" not in repr(found)


async def test_a_vercel_sign_in_token_is_never_a_github_token(
    conn: cadb.Connection, make_user: MakeUser, other_user: cadb.User
) -> None:
    vercel = await make_user(provider="vercel", access_token="vercel-secret")
    assert await cadb.get_github_token(user_id=vercel.id, conn=conn) is None
    await cadb.set_key(user_id=other_user.id, provider="github", value="ghp_theirs", conn=conn)
    assert await cadb.get_github_token(user_id=vercel.id, conn=conn) is None


# ---------------------------------------------------------------- unlink guard


async def test_github_cannot_be_disconnected_when_it_is_the_primary_sign_in(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    github_user = await make_user(provider="github")
    await cadb.link_account(
        user_id=github_user.id, account=github_account(github_user.external_id), conn=conn
    )
    with pytest.raises(cadb.InvalidTransitionError, match="primary sign-in"):
        await cadb.unlink_account(user_id=github_user.id, conn=conn)
    assert await cadb.get_account(user_id=github_user.id, conn=conn) is not None

    vercel_user = await make_user(provider="vercel")
    await cadb.link_account(
        user_id=vercel_user.id, account=github_account(secrets.token_hex(4)), conn=conn
    )
    await cadb.unlink_account(user_id=vercel_user.id, conn=conn)
    assert await cadb.get_account(user_id=vercel_user.id, conn=conn) is None
    with pytest.raises(cadb.NotFoundError):
        await cadb.unlink_account(user_id=vercel_user.id, conn=conn)


# ---------------------------------------------------------------- API tokens


async def test_list_api_tokens_pages_through_every_token(
    conn: cadb.Connection, user: cadb.User
) -> None:
    for n in range(cadb.MAX_LIVE_TOKENS):
        await cadb.create_api_token(user_id=user.id, name=f"t{n}", conn=conn)
    everything = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    pages: list[list[cadb.ApiToken]] = []
    before = None
    while True:
        page = await cadb.list_api_tokens(user_id=user.id, limit=7, before=before, conn=conn)
        if not page:
            break
        pages.append(page)
        before = page[-1].cursor
    assert [len(page) for page in pages] == [7, 7, 6]
    assert [token for page in pages for token in page] == everything
    assert [t.name for t in everything] == [f"t{n}" for n in reversed(range(20))]
    with pytest.raises(cadb.ValidationError) as caught:
        await cadb.list_api_tokens(user_id=user.id, before="t3", conn=conn)  # type: ignore[arg-type]
    assert caught.value.field == "before"


async def test_expired_tokens_are_cleaned_so_rows_stay_bounded(
    conn: cadb.Connection, user: cadb.User
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    for round_ in range(3):
        for n in range(cadb.MAX_LIVE_TOKENS - 1):
            made = await cadb.create_api_token(
                user_id=user.id,
                name=f"short {round_}.{n}",
                expires_at=datetime.now(UTC) + timedelta(hours=1),
                conn=conn,
            )
            await checks.set_raw_token_expiry(conn, token_id=made.token.id, expires_at=past)
        kept = await cadb.create_api_token(user_id=user.id, name=f"keep {round_}", conn=conn)
        listed = await cadb.list_api_tokens(user_id=user.id, conn=conn)
        assert len(listed) == round_ + 1, "expired tokens were not cleaned"
        assert kept.token in listed
    assert (await checks.count_rows(conn, user_id=user.id))["api_tokens"] == 3


async def test_using_a_token_touches_updated_at(conn: cadb.Connection, user: cadb.User) -> None:
    created = await cadb.create_api_token(user_id=user.id, name="ci", conn=conn)
    assert await cadb.authenticate_api_token(created.raw_token, conn=conn) is not None
    (used,) = await cadb.list_api_tokens(user_id=user.id, conn=conn)
    assert used.last_used_at is not None
    assert used.updated_at == used.last_used_at
    assert used.updated_at > created.token.updated_at


# ---------------------------------------------------------------- account merge


async def test_connecting_an_unlinked_github_account_links_it(
    conn: cadb.Connection, user: cadb.User
) -> None:
    external_id = secrets.token_hex(4)
    connected = await cadb.connect_github_account(
        user_id=user.id, account=github_account(external_id, access_token="gho_1"), conn=conn
    )
    assert connected.merged_user_id is None
    assert (connected.account.user_id, connected.account.external_user_id) == (user.id, external_id)
    again = await cadb.connect_github_account(
        user_id=user.id, account=github_account(external_id, access_token="gho_2"), conn=conn
    )
    assert again.merged_user_id is None
    assert await cadb.get_github_token(user_id=user.id, conn=conn) == cadb.GitHubToken(
        token="gho_2", source="account"
    )


async def populated_user(make_user: MakeUser, external_id: str) -> tuple[cadb.User, cadb.Task]:
    """A Vercel user who connected GitHub ``external_id`` and used the platform."""
    old = await make_user(provider="vercel")
    await cadb.link_account(
        user_id=old.id,
        account=github_account(external_id, refresh_token="ghr_old", scope="repo"),
    )
    await cadb.set_setting(user_id=old.id, key="maxMessagesPerDay", value="50")
    task = await cadb.create_task(user_id=old.id, task=cadb.NewTask(prompt="old work"))
    await cadb.create_user_message(user_id=old.id, task_id=task.id, content="and more")
    await cadb.set_key(user_id=old.id, provider="anthropic", value="sk-ant-old")
    await cadb.set_key(user_id=old.id, provider="github", value="ghp_old")
    await cadb.create_connector(
        user_id=old.id,
        connector=cadb.NewConnector(
            name="fs", type="local", command="npx fs", env={"TOKEN": "env-secret"}
        ),
    )
    await cadb.create_api_token(user_id=old.id, name="old ci")
    return old, task


async def test_connecting_another_users_github_account_merges_them_like_the_app(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    external_id = secrets.token_hex(4)
    old, old_task = await populated_user(make_user, external_id)
    old_token = await cadb.create_api_token(user_id=old.id, name="old cli")
    new = await make_user(provider="vercel")
    await cadb.set_key(user_id=new.id, provider="anthropic", value="sk-ant-new", conn=conn)
    await cadb.link_account(user_id=new.id, account=github_account(secrets.token_hex(4)), conn=conn)
    own_task = await cadb.create_task(user_id=new.id, task=cadb.NewTask(prompt="mine"), conn=conn)

    connected = await cadb.connect_github_account(
        user_id=new.id,
        account=github_account(external_id, access_token="gho_fresh", username="octo-new"),
        conn=conn,
    )

    assert connected.merged_user_id == old.id
    assert (connected.account.user_id, connected.account.external_user_id) == (
        new.id,
        external_id,
    )
    assert connected.account.username == "octo-new"
    # The old user is gone, and nothing of theirs is left behind.
    assert await cadb.get_user(user_id=old.id, conn=conn) is None
    assert await checks.count_rows_of_users(conn, user_ids=[old.id]) == 0
    assert await cadb.authenticate_api_token(old_token.raw_token, conn=conn) is None
    # Tasks and their messages moved.
    tasks = await cadb.list_tasks(user_id=new.id, conn=conn)
    assert {t.id for t in tasks} == {old_task.id, own_task.id}
    messages = await cadb.list_task_messages(user_id=new.id, task_id=old_task.id, conn=conn)
    assert [m.content for m in messages] == ["old work", "and more"]
    assert {m.user_id for m in messages} == {new.id}
    # Keys: the connecting user's own anthropic key wins; the github PAT moved, still readable.
    keys = await cadb.reveal_keys(user_id=new.id, conn=conn)
    assert keys.values == {"anthropic": "sk-ant-new", "github": "ghp_old"}
    assert keys.unreadable == ()
    # The MCP server moved with its secret re-encrypted for its new owner.
    (connector,) = await cadb.list_connectors(user_id=new.id, conn=conn)
    launch = await cadb.get_connector_launch(user_id=new.id, connector_id=connector.id, conn=conn)
    assert launch is not None
    assert launch.env == {"TOKEN": "env-secret"}
    # The link is the connected one, with the fresh token; the old link of `new` is replaced.
    assert await checks.count_github_links(conn, external_user_id=external_id) == 1
    assert await cadb.get_github_token(user_id=new.id, conn=conn) == cadb.GitHubToken(
        token="gho_fresh", source="account"
    )
    # The merged user's setting went with them, as in the app.
    assert await cadb.get_setting(user_id=new.id, key="maxMessagesPerDay", conn=conn) is None


async def test_a_merge_that_fails_halfway_writes_nothing(
    conn: cadb.Connection, make_user: MakeUser
) -> None:
    external_id = secrets.token_hex(4)
    old, _ = await populated_user(make_user, external_id)
    before = await checks.count_rows_of_users(conn, user_ids=[old.id])
    with pytest.raises(cadb.NotFoundError):
        await cadb.connect_github_account(
            user_id="no-such-user", account=github_account(external_id), conn=conn
        )
    assert await checks.count_rows_of_users(conn, user_ids=[old.id]) == before


async def test_two_users_merging_one_github_account_at_once_exactly_one_wins(
    make_user: MakeUser,
) -> None:
    """A's merge holds its transaction open while B's waits on the account's
    lock; when A commits, B finds the account moved and gives up."""
    external_id = secrets.token_hex(4)
    old, old_task = await populated_user(make_user, external_id)
    first = await make_user(provider="vercel")
    second = await make_user(provider="vercel")
    second_task = await cadb.create_task(user_id=second.id, task=cadb.NewTask(prompt="B's"))
    before = await checks.count_rows_of_users(await cadb.get_pool(), user_ids=[old.id, first.id])

    async with cadb.connection() as held, cadb.transaction(held) as tx:
        won = await cadb.connect_github_account(
            user_id=first.id, account=github_account(external_id), conn=tx
        )
        losing = asyncio.create_task(
            cadb.connect_github_account(user_id=second.id, account=github_account(external_id))
        )
        async with asyncio.timeout(5), cadb.connection() as observer:
            # The waiting happens in the server: poll it (no event to wait on).
            while await checks.count_waiting_locks(observer) == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert not losing.done()

    with pytest.raises(cadb.ConflictError):
        await losing

    assert won.merged_user_id == old.id
    pool = await cadb.get_pool()
    assert await checks.count_rows_of_users(pool, user_ids=[old.id]) == 0
    # Every row of the old user is now the winner's, but its users row, setting and API token.
    assert await checks.count_rows_of_users(pool, user_ids=[first.id]) == before - 1 - 2
    assert await cadb.get_task(user_id=first.id, task_id=old_task.id) is not None
    assert await cadb.get_account(user_id=second.id) is None
    assert [t.id for t in await cadb.list_tasks(user_id=second.id)] == [second_task.id]
    assert await checks.count_github_links(pool, external_user_id=external_id) == 1


async def test_simultaneous_merges_of_one_account_merge_the_old_user_once(
    make_user: MakeUser,
) -> None:
    for _ in range(5):
        external_id = secrets.token_hex(4)
        old, old_task = await populated_user(make_user, external_id)
        racers = [await make_user(provider="vercel") for _ in range(2)]
        results = await asyncio.gather(
            *(
                cadb.connect_github_account(user_id=racer.id, account=github_account(external_id))
                for racer in racers
            ),
            return_exceptions=True,
        )
        merges = [r for r in results if isinstance(r, cadb.GitHubConnection)]
        assert all(isinstance(r, cadb.GitHubConnection | cadb.ConflictError) for r in results), (
            results
        )
        assert [m.merged_user_id for m in merges].count(old.id) == 1
        pool = await cadb.get_pool()
        assert await checks.count_rows_of_users(pool, user_ids=[old.id]) == 0
        (holder,) = [
            racer for racer in racers if await cadb.get_account(user_id=racer.id) is not None
        ]
        assert await cadb.get_task(user_id=holder.id, task_id=old_task.id) is not None
        assert await checks.count_github_links(pool, external_user_id=external_id) == 1
