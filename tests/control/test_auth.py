"""Users, tokens and grants in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from switchyard.control import auth
from switchyard.control.db import Base, Database
from switchyard.control.permissions import Permission as P
from switchyard.control.timestamps import now


async def schema_drift(db: Database, tables: set[str]) -> list[object]:
    """Differences between the models of `tables` and the migrated database."""

    def compare(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        diffs = await conn.run_sync(compare)

    def table_of(diff: object) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(part, str) and part in tables:
                return part
            if name in tables:
                return str(name)
        return None

    return [d for d in diffs if table_of(d) in tables]


async def test_models_match_migrations(database: Database) -> None:
    assert await schema_drift(database, {"users", "tokens", "grants"}) == []


async def test_create_user_validates_and_refuses_duplicates(database: Database) -> None:
    async with database.session() as s:
        user = await auth.create_user(s, "alice", "editor")
        assert (user.name, user.role, user.disabled) == ("alice", "editor", False)
        with pytest.raises(auth.UserExists):
            await auth.create_user(s, "alice", "viewer")
        with pytest.raises(ValueError, match="unknown role"):
            await auth.create_user(s, "bob", "root")
        with pytest.raises(ValueError, match="invalid user name"):
            await auth.create_user(s, "Bob Smith", "viewer")
        assert (await auth.find_user(s, user.id)).name == "alice"  # by id too
        assert await auth.find_user(s, "nobody") is None


async def test_tokens_store_only_a_hash_and_authenticate(database: Database) -> None:
    async with database.session() as s:
        user = await auth.create_user(s, "alice", "operator")
        token_id, text = await auth.create_token(s, user.id)
    assert text.startswith(auth.TOKEN_PREFIX) and len(text) > 40
    async with database.session() as s:
        row = await s.get(auth.Token, token_id)
        assert row.hash == auth.hash_token(text) and text not in row.hash
        found = await auth.authenticate(s, text)
        assert found is not None and found[0].name == "alice"
        assert await auth.authenticate(s, text + "x") is None
        assert await auth.authenticate(s, "") is None


async def test_expired_revoked_and_disabled_tokens_fail(database: Database) -> None:
    async with database.session() as s:
        user = await auth.create_user(s, "alice", "viewer")
        expiring_id, expiring = await auth.create_token(s, user.id, expires_in=60)
        revoked_id, revoked = await auth.create_token(s, user.id)
        _, other = await auth.create_token(s, user.id)
        await auth.revoke_token(s, revoked_id)
        assert await auth.revoke_token(s, "nope") is None
    async with database.session() as s:
        assert await auth.authenticate(s, expiring) is not None
        await s.execute(
            update(auth.Token)
            .where(auth.Token.id == expiring_id)
            .values(expires_at=now() - timedelta(seconds=1))
        )
        assert await auth.authenticate(s, expiring) is None
        assert await auth.authenticate(s, revoked) is None
        assert await auth.authenticate(s, other) is not None
        await auth.update_user(s, await s.get(auth.User, user.id), disabled=True)
        assert await auth.authenticate(s, other) is None
    with pytest.raises(ValueError):
        async with database.session() as s:
            await auth.create_token(s, user.id, expires_in=0)


async def test_token_cannot_outlive_its_bound(database: Database) -> None:
    bound = now() + timedelta(hours=1)
    async with database.session() as s:
        user = await auth.create_user(s, "alice", "viewer")
        forever_id, _ = await auth.create_token(s, user.id, None, not_after=bound)
        short_id, _ = await auth.create_token(s, user.id, 60, not_after=bound)
        assert (await s.get(auth.Token, forever_id)).expires_at == bound
        assert (await s.get(auth.Token, short_id)).expires_at < bound


async def test_last_used_is_written_at_most_once_a_minute(database: Database) -> None:
    async with database.session() as s:
        user = await auth.create_user(s, "alice", "viewer")
        token_id, text = await auth.create_token(s, user.id)
    async with database.session() as s:
        await auth.authenticate(s, text)
    async with database.session() as s:
        first = (await s.get(auth.Token, token_id)).last_used_at
        assert first is not None and now() - first < timedelta(seconds=30)
    async with database.session() as s:
        await auth.authenticate(s, text)
    async with database.session() as s:
        assert (await s.get(auth.Token, token_id)).last_used_at == first  # not rewritten
        await s.execute(
            update(auth.Token)
            .where(auth.Token.id == token_id)
            .values(last_used_at=first - timedelta(minutes=2))
        )
    async with database.session() as s:
        await auth.authenticate(s, text)
    async with database.session() as s:
        assert (await s.get(auth.Token, token_id)).last_used_at > first - timedelta(seconds=1)


async def test_ensure_admin_once_and_with_a_given_token(database: Database) -> None:
    async with database.session() as s:
        token = await auth.ensure_admin(s, "syt_given-admin-token")
    assert token == "syt_given-admin-token"
    async with database.session() as s:
        assert await auth.ensure_admin(s) is None  # an admin exists
        user, _ = await auth.authenticate(s, token)
        assert (user.name, user.role) == ("admin", "admin")
        # A changed SWITCHYARD_ADMIN_TOKEN works after a restart too.
        assert await auth.ensure_admin(s, "syt_second") is None
        assert (await auth.authenticate(s, "syt_second"))[0].name == "admin"
        admins = (await s.scalars(select(auth.User).where(auth.User.role == "admin"))).all()
        assert len(admins) == 1


async def test_ensure_admin_generates_a_token(database: Database) -> None:
    async with database.session() as s:
        token = await auth.ensure_admin(s)
    assert token and token.startswith(auth.TOKEN_PREFIX)
    async with database.session() as s:
        assert (await auth.authenticate(s, token))[0].role == "admin"


async def test_roles_and_grants_decide_allowed(database: Database) -> None:
    async with database.session() as s:
        viewer = await auth.create_user(s, "vera", "viewer")
        other = await auth.create_user(s, "otto", "viewer")
        editor = await auth.create_user(s, "eddie", "editor")
        assert await auth.allowed(s, editor.id, P.WORKFLOWS_UPDATE, "workflow", "a")
        assert not await auth.allowed(s, viewer.id, P.WORKFLOWS_UPDATE, "workflow", "a")
        out = await auth.set_grants(
            s,
            "workflow",
            "a",
            [("user:vera", ["workflows_update"]), ("role:viewer", ["workflows_run"])],
        )
        assert [(g.subject, g.permissions) for g in out] == [
            ("role:viewer", ("workflows_run",)),
            ("user:vera", ("workflows_update",)),
        ]
        assert await auth.allowed(s, viewer.id, P.WORKFLOWS_UPDATE, "workflow", "a")
        assert not await auth.allowed(s, viewer.id, P.WORKFLOWS_UPDATE, "workflow", "b")
        assert not await auth.allowed(s, viewer.id, P.WORKFLOWS_UPDATE, "connection", "a")
        assert not await auth.allowed(s, other.id, P.WORKFLOWS_UPDATE, "workflow", "a")
        assert await auth.allowed(s, other.id, P.WORKFLOWS_RUN, "workflow", "a")  # by role grant
        # PUT semantics: the list replaces the grants.
        await auth.set_grants(s, "workflow", "a", [])
        assert await auth.get_grants(s, "workflow", "a") == []
        assert not await auth.allowed(s, viewer.id, P.WORKFLOWS_UPDATE, "workflow", "a")


@pytest.mark.parametrize(
    ("grants", "location"),
    [
        ([("user:nobody", ["workflows_read"])], "[0].subject"),
        ([("group:x", ["workflows_read"])], "[0].subject"),
        ([("role:root", ["workflows_read"])], "[0].subject"),
        ([("role:viewer", ["workflows_read"]), ("role:viewer", ["fly"])], "[1].permissions"),
        ([("role:viewer", ["connections_use"])], "[0].permissions"),  # not on a workflow
        ([("role:viewer", ["users_create"])], "[0].permissions"),  # never per resource
    ],
)
async def test_invalid_grants_are_refused_with_a_location(
    database: Database, grants: list[tuple[str, list[str]]], location: str
) -> None:
    async with database.session() as s:
        with pytest.raises(auth.GrantError) as info:
            await auth.set_grants(s, "workflow", "a", grants)
    assert info.value.location == location
