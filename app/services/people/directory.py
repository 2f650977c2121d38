"""People lookups for the engine: role members, users, display names."""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Role, RoleMember, User


class DbDirectory:
    """The engine's `Directory`, backed by the roles and users tables (one query per lookup, only when asked).

    `ticket_id` lets ASSIGN_LEADER find who submitted an earlier step of that ticket.
    """

    def __init__(self, ticket_id: int | None = None):
        self.ticket_id = ticket_id

    def role_members(self, role_type: str, keys: tuple[str, ...]) -> frozenset[str]:
        if not keys:
            return frozenset()
        return frozenset(db.session.execute(_ROLE_MEMBERS, {"keys": list(keys), "role_type": role_type}).scalars())

    def leaders_of(self, usernames: frozenset[str]) -> frozenset[str]:
        if not usernames:
            return frozenset()
        return frozenset(db.session.execute(_ENABLED_LEADERS, {"usernames": sorted(usernames)}).scalars())

    def department_members(self, departments: tuple[str, ...]) -> frozenset[str]:
        if not departments:
            return frozenset()
        return frozenset(db.session.execute(select(User.username).where(
            User.department.in_(list(departments)), User.is_enabled.is_(True))).scalars())

    def step_processor(self, node_key: str) -> str | None:
        from app.models import TicketStep

        if self.ticket_id is None:
            return None
        return db.session.execute(select(TicketStep.closed_by).where(
            TicketStep.ticket_id == self.ticket_id, TicketStep.node_key == node_key,
            TicketStep.status == "FINISHED").order_by(TicketStep.id.desc()).limit(1)).scalar_one_or_none()


# the enabled leaders of some users, in one query (a self-join): asked for each new ticket with a leader field
_LEADER = aliased(User, name="leader")
_ENABLED_LEADERS = (select(_LEADER.username).distinct()
                    .join(User, User.leader == _LEADER.username)
                    .where(User.username.in_(bindparam("usernames", expanding=True)), User.leader != "",
                           _LEADER.is_enabled.is_(True)))
# built once: the engine asks for role members whenever a step opens
_ROLE_MEMBERS = (select(RoleMember.username).join(Role)
                 .where(Role.key.in_(bindparam("keys", expanding=True)), Role.type == bindparam("role_type")))


def user_choices() -> list[tuple[str, str]]:
    """(username, label) of every enabled user, for MEMBER(S) fields and processor pickers."""
    rows = db.session.execute(
        select(User.username, User.display_name).where(User.is_enabled.is_(True)).order_by(User.username)
    ).all()
    return [(u, f"{u}({n})" if n else u) for u, n in rows]


def user_labels(usernames) -> dict[str, str]:
    """`username -> "username(姓名)"` for those of `usernames` that are users (enabled or not): what a picker
    shows for a stored value, and how a form tells an existing user from a typo."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = db.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    return {u: f"{u}({n})" if n else u for u, n in rows}


def search_users(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(username, label) of enabled users whose username or display name contains `text` (any case), for the
    people pickers; usernames that start with it first. An empty search gives nothing."""
    term = (text or "").strip()[:64]
    if not term:
        return []
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    rows = db.session.execute(
        select(User.username, User.display_name)
        .where(User.is_enabled.is_(True),
               or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
        .order_by(User.username).limit(200)
    ).all()
    lowered = term.lower()
    rows = sorted(rows, key=lambda r: (not r[0].lower().startswith(lowered), r[0]))[:limit]
    return [(u, f"{u}({n})" if n else u) for u, n in rows]


def enabled_users(usernames) -> list[tuple[str, str]]:
    """user_choices() restricted to these usernames: one query, none when there are no names."""
    names = sorted({n for n in usernames if n})
    if not names:
        return []
    rows = db.session.execute(select(User.username, User.display_name).where(
        User.username.in_(names), User.is_enabled.is_(True)).order_by(User.username)).all()
    return [(u, f"{u}({n})" if n else u) for u, n in rows]


def general_roles() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Role.key, Role.name).where(Role.type == "GENERAL").order_by(Role.name)).all()
    return [(k, n) for k, n in rows]


def role_keys() -> set[str]:
    return set(db.session.execute(select(Role.key)).scalars())


def general_role_keys(values: list[str]) -> list[str]:
    """General roles named by id (BlueKing sends role ids) or by key, as keys; unknown values stay as given."""
    ids = [int(v) for v in values if v.isdigit()]
    by_id = dict(db.session.execute(select(Role.id, Role.key).where(Role.id.in_(ids))).all()) if ids else {}
    return [by_id.get(int(v), v) if v.isdigit() else v for v in values]


def spec_usernames(spec, creator: str = "") -> str:
    """The usernames a processor spec stands for now, comma-separated (upstream's get_service_roles resolves
    GENERAL roles and STARTER the same way); PERSON keeps its order, "" for what only a ticket can resolve."""
    from app.engine.machine import resolve

    if spec is None:
        return ""
    if spec.type in ("PERSON", "IAM"):             # IAM: the permission center's role, named as bk-iam expects
        return ",".join(spec.value)
    if spec.type in ("STARTER", "STARTER_LEADER") and not creator:
        return ""
    return ",".join(sorted(resolve(spec, creator, DbDirectory())))
