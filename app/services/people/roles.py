"""Back-office use cases for roles: general role members, CMDB role sync, admin roles."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import func, select, text

from app.errors import OperationRefused, ValidationFailed
from app.extensions import db
from app.integrations.http_api import send as http_send
from app.models import Role, RoleMember, User
from app.services.system import audit as admin_audit
from app.services.system.settings import get_setting, set_setting
from app.timeutil import utcnow

CMDB_TIMEOUT = 5                      # seconds, total, to read an http(s) CMDB source
CMDB_MAX_BYTES = 16 * 1024 * 1024     # the largest CMDB source read


def set_role_members(role: Role, usernames: list[str]) -> None:
    """Replace a role's members with `usernames` (each must be a known user)."""
    wanted = sorted({u.strip() for u in usernames if u and u.strip()})
    known = set(db.session.execute(select(User.username).where(User.username.in_(wanted))).scalars()) if wanted else set()
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise ValidationFailed(f"用户不存在：{'、'.join(unknown)}")
    current = {m.username: m for m in role.members}
    for name in set(current) - set(wanted):
        role.members.remove(current[name])
    for name in wanted:
        if name not in current:
            role.members.append(RoleMember(username=name))


def check_general_role_key(role: Role) -> None:
    """Role keys are unique across general and CMDB roles (flows reference them by key)."""
    with db.session.no_autoflush:
        clash = next((r for r in db.session.execute(select(Role).where(Role.key == role.key)).scalars() if r is not role),
                     None)
    if clash is not None:
        raise ValidationFailed(f"角色标识 {role.key!r} 已被角色「{clash.name}」使用")


def cmdb_source() -> str:
    """Where CMDB business roles come from (config CMDB_SOURCE): a YAML file in instance/ or an http(s) URL."""
    return current_app.config["CMDB_SOURCE"]


def fetch_cmdb_roles(source: str, instance_path: str) -> list[dict]:
    """Read and check the roles of the CMDB source (a file, or a URL within a total deadline; no database)."""
    if source.startswith(("http://", "https://")):
        result = http_send("GET", source, timeout=CMDB_TIMEOUT, max_bytes=CMDB_MAX_BYTES, expect_json=False)
        if not result.ok:
            raise OperationRefused(f"无法读取 CMDB 数据源：{result.error or f'HTTP {result.status_code}'}")
        text = result.text
    else:
        path = Path(source)
        if not path.is_absolute():
            path = Path(instance_path) / path
        if not path.exists():
            raise OperationRefused(f"CMDB 数据源文件不存在：{source}")
        text = path.read_text(encoding="utf-8")
    return parse_cmdb_roles(text)


def parse_cmdb_roles(text: str) -> list[dict]:
    """The roles in a CMDB source's text: roles: [{key, name, bk_biz_id, members: [...]}]."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"CMDB 数据源不是合法的 YAML/JSON：{exc}") from None
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, list):
        raise ValidationFailed("CMDB 数据源格式应为 roles: [{key, name, bk_biz_id, members: [...]}]")
    out, seen = [], set()
    for i, r in enumerate(roles):
        if not isinstance(r, dict) or not r.get("key") or not r.get("name"):
            raise ValidationFailed(f"CMDB 数据源第 {i + 1} 个角色缺少 key 或 name")
        if r["key"] in seen:
            raise ValidationFailed(f"CMDB 数据源中角色 {r['key']!r} 重复")
        seen.add(r["key"])
        members = r.get("members") or []
        if not isinstance(members, list):
            raise ValidationFailed(f"CMDB 角色 {r['key']!r} 的 members 应为列表")
        out.append({"key": str(r["key"]), "name": str(r["name"]), "bk_biz_id": r.get("bk_biz_id"),
                    "members": sorted({str(m) for m in members})})
    return out


def sync_cmdb_roles(roles: list[dict], *, by: str) -> dict:
    """Replace every CMDB role and its members with `roles`; a general role's key is never taken over."""
    general = set(db.session.execute(select(Role.key).where(Role.type != "CMDB")).scalars())
    clash = sorted(general & {r["key"] for r in roles})
    if clash:
        raise ValidationFailed(f"CMDB 角色标识与通用角色重复：{'、'.join(clash)}")
    existing = {r.key: r for r in db.session.execute(select(Role).where(Role.type == "CMDB")).scalars()}
    before = {k: r.usernames for k, r in existing.items()}
    for key in set(existing) - {r["key"] for r in roles}:
        db.session.delete(existing.pop(key))
    db.session.flush()
    for r in roles:
        row = existing.get(r["key"])
        if row is None:
            row = Role(key=r["key"], type="CMDB")
            db.session.add(row)
        row.name, row.bk_biz_id = r["name"], r["bk_biz_id"]
        current = {m.username: m for m in row.members}
        for name in set(current) - set(r["members"]):
            row.members.remove(current[name])
        for name in r["members"]:
            if name not in current:
                row.members.append(RoleMember(username=name))
    db.session.flush()
    after = {r["key"]: r["members"] for r in roles}
    admin_audit.record(by, "sync", "Role", "CMDB", before=before, after=after, summary=f"同步 CMDB 角色 {len(roles)} 个")
    return {"roles": len(roles), "removed": len(set(before) - set(after))}


def check_admin_roles_change(user: User, *, by: str, is_superuser: bool) -> None:
    """A super admin may not take away their own super-admin role, nor leave the system without one."""
    if user.is_superuser and not is_superuser:
        if user.username == by:
            raise OperationRefused("不能取消自己的超级管理员角色")
        others = db.session.execute(select(func.count(User.id)).where(
            User.is_superuser.is_(True), User.id != user.id, User.is_enabled.is_(True))).scalar()
        if not others:
            raise OperationRefused("系统中至少要保留一名超级管理员")


def cmdb_sync_due(*, min_interval_seconds: int) -> tuple[str | None, str]:
    """The scheduler's CMDB sync, read phase: (the source to fetch, "") or (None, why there is nothing to do)."""
    source = cmdb_source()
    if not source.startswith(("http://", "https://")) and not (Path(current_app.instance_path) / source).exists():
        return None, "no source"          # (an absolute path joins as itself)
    if _synced_recently(min_interval_seconds):
        return None, "synced recently"
    return source, ""


def record_scheduled_cmdb_sync(roles: list[dict], *, min_interval_seconds: int) -> str:
    """The scheduler's CMDB sync, write phase: at most once per interval across all schedulers."""
    if db.engine.dialect.name == "postgresql" and not db.session.execute(
            text("SELECT pg_try_advisory_xact_lock(7344001)")).scalar():
        return "another scheduler is syncing"
    if _synced_recently(min_interval_seconds):
        return "synced recently"
    result = sync_cmdb_roles(roles, by="system")
    set_setting("cmdb.synced_at", utcnow().isoformat(), by="system")
    return f"synced {result}"


def _synced_recently(min_interval_seconds: int) -> bool:
    last = get_setting("cmdb.synced_at")
    return bool(last) and utcnow() - datetime.fromisoformat(last) < timedelta(seconds=min_interval_seconds)
