"""Accounts and role membership."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Role, RoleMember, User
from app.models.user import password_matches
from app.timeutil import utcnow


def find_user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def outside_user(username: str) -> User:
    """Someone another system names who has no account here (bk-monitor's `fta-system`): upstream stores any
    creator, so a ticket may be theirs. Never added to the session: no login, no roles, no rights but a
    creator's own (withdrawing their ticket)."""
    name = (username or "").strip()
    if not name or len(name) > 64 or any(c in name for c in ", \t\r\n"):
        raise ValidationFailed(f"用户名 {username!r} 不合法：不能为空、不超过 64 个字符、不含逗号或空白")
    return User(username=name, display_name=name, is_superuser=False, is_stats_admin=False, is_enabled=True)


def require_user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


def create_user(username: str, *, password: str | None = None, display_name: str = "", email: str = "",
                is_superuser: bool = False) -> tuple[User, str]:
    """A new account; returns it with its password (generated when not given)."""
    username = username.strip()
    if not username or len(username) > 64 or any(c in username for c in " ,;/\\"):
        raise ValidationFailed("用户名不能为空，且不能包含空格、逗号等字符")
    if find_user(username):
        raise ValidationFailed(f"用户 {username} 已存在")
    password = password or secrets.token_urlsafe(12)
    user = User(username=username, display_name=display_name, email=email, is_superuser=is_superuser)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, password


def set_password(username: str, password: str | None = None) -> str:
    """Set (or generate) a user's password; returns it."""
    user = require_user(username)
    password = password or secrets.token_urlsafe(12)
    user.set_password(password)
    db.session.flush()
    return password


def authenticate(username: str, password: str) -> User | None:
    """The enabled user with this password, or None (same answer, and the same hash work, for an unknown
    user, a disabled one and a wrong password)."""
    user = find_user((username or "").strip())
    matches = password_matches(user.password_hash if user is not None else None, password or "")
    if user is None or not user.is_enabled or not matches:
        return None
    user.last_login_at = utcnow()
    return user


def session_user(session_id: str) -> User | None:
    """The user a session's `id:version` names, while that version is current (flask-login's user loader).

    Logout and a password change raise the user's session version, so a copied session cookie
    stops working with them.
    """
    user_id, _, version = (session_id or "").partition(":")
    try:
        user = db.session.get(User, int(user_id))
        current = user is not None and user.session_version == int(version)
    except (TypeError, ValueError):
        return None
    return user if current else None


def end_sessions(user: User) -> None:
    """End every session and bk_token of this user (logout ends them on every device)."""
    user.session_version = User.session_version + 1
    db.session.flush()


def ensure_role(key: str, name: str, *, type_: str = "GENERAL", desc: str = "") -> Role:
    role = db.session.execute(select(Role).where(Role.key == key)).scalar_one_or_none()
    if role is None:
        role = Role(key=key, name=name, type=type_, desc=desc)
        db.session.add(role)
        db.session.flush()
    return role


def add_role_member(role_key: str, username: str) -> Role:
    """Put a user into a general role (idempotent)."""
    role = db.session.execute(select(Role).where(Role.key == role_key)).scalar_one_or_none()
    if role is None:
        raise NotFound(f"角色 {role_key} 不存在")
    require_user(username)
    if username not in role.usernames:
        role.members.append(RoleMember(username=username))
        db.session.flush()
    return role


# --- the directory: departments and leaders (STARTER_LEADER, ASSIGN_LEADER, ORGANIZATION) ----------------

def check_directory_entry(username: str, department: str, leader: str) -> None:
    """A user's department and leader as the back office or an import sets them: the leader exists and is someone else."""
    if len(department or "") > 128:
        raise ValidationFailed("部门名称不超过 128 个字符")
    leader = (leader or "").strip()
    if leader and leader == username:
        raise ValidationFailed(f"{username} 不能是自己的直属领导")
    if leader and find_user(leader) is None:
        raise ValidationFailed(f"直属领导 {leader} 不是已有用户")


def import_directory(rows: list[dict]) -> int:
    """Set department and leader of existing users from rows `{username, department, leader}` (all or nothing).

    Every bad row is reported at once, with its line (the header is line 1).
    """
    problems, updates = [], []
    for line, row in enumerate(rows, start=2):
        username = (row.get("username") or "").strip()
        department, leader = (row.get("department") or "").strip(), (row.get("leader") or "").strip()
        user = find_user(username) if username else None
        if user is None:
            problems.append(f"第 {line} 行：用户 {username or '（空）'} 不存在")
            continue
        try:
            check_directory_entry(username, department, leader)
        except ValidationFailed as exc:
            problems.append(f"第 {line} 行：{exc.message}")
            continue
        updates.append((user, department, leader))
    if problems:
        raise ValidationFailed("组织架构导入失败：\n" + "\n".join(problems), errors={"rows": problems})
    for user, department, leader in updates:
        user.department, user.leader = department, leader
    db.session.flush()
    return len(updates)
