"""`itsm init [--demo]`: migrate, load dictionaries and flows, create the admin and the demo data.

Safe to run twice: everything is created only when missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import select

from app.extensions import db
from app.models import Flow
from app.services.catalog.browse import ensure_catalog, ensure_root_catalog, ensure_service
from app.services.flows.library import deploy_flow, latest_version, load_flow_files
from app.services.people.users import add_role_member, create_user, ensure_role, find_user
from app.services.system.dictionaries import load_dictionary_files

DEMO_DATA = Path(__file__).with_name("demo_data.yaml")


@dataclass
class InitReport:
    created_passwords: dict[str, str] = field(default_factory=dict)   # only passwords we generated
    flows: list[str] = field(default_factory=list)
    deployed: list[str] = field(default_factory=list)


def migrate_to_head() -> None:
    upgrade(directory=str(Path(current_app.root_path) / "migrations"))


def init_system(*, demo: bool = False, admin_password: str | None = None, demo_password: str | None = None) -> InitReport:
    """Load the reference data and the admin; with `demo`, also users, roles, catalogs and services."""
    report = InitReport()
    load_dictionary_files(current_app.config["DICTIONARIES_DIR"])
    existing = set(db.session.execute(select(Flow.key)).scalars())
    for row in load_flow_files(current_app.config["FLOWS_DIR"]) if not existing else []:
        report.flows.append(row.key)
    _ensure_builtin_services(report)
    ensure_root_catalog()
    if find_user("admin") is None:
        _, pw = create_user("admin", password=admin_password, display_name="ITSM超级管理员", is_superuser=True)
        if not admin_password:
            report.created_passwords["admin"] = pw
    if demo:
        _load_demo(report, demo_password)
    db.session.flush()
    return report


BUILTIN_APPROVAL = "builtin_approval"        # the flow and service key of 内置审批服务
# services upstream ships for other BlueKing systems: (flow and service key, name, desc, display_type, display_role)
BUILTIN_SERVICES = (
    (BUILTIN_APPROVAL, "内置审批服务", "其他系统通过 create_ticket（fast_approval: true）发起的审批", "OPEN", ""),
    ("iam_default", "默认审批流程", "默认审批服务（权限中心）", "API", "BK_IAM"),
    ("iam_group", "用户组审批流程", "用户组审批服务（权限中心）", "API", "BK_IAM"),
)


def _ensure_builtin_services(report: InitReport) -> None:
    """Each built-in service: its flow template (from flows_yaml/, also on an install made before it shipped),
    a version, the service."""
    from app.services.flows.library import save_flow_source

    for key, name, desc, display_type, display_role in BUILTIN_SERVICES:
        if db.session.execute(select(Flow).where(Flow.key == key)).scalar_one_or_none() is None:
            path = Path(current_app.config["FLOWS_DIR"]) / f"{key}.yaml"
            if not path.exists():
                continue
            save_flow_source(path.read_text(encoding="utf-8"), by="system", source_path=path.name, filename=str(path))
            report.flows.append(key)
        version = latest_version(key)
        if version is None:
            version = deploy_flow(key, by="system")
            report.deployed.append(f"{version.flow_key} v{version.version_number}")
        ensure_service(key, name, service_type="request", flow_version_id=version.id, desc=desc, owners="admin",
                       display_type=display_type, display_role=display_role)


def _load_demo(report: InitReport, password: str | None) -> None:
    data = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))
    shared = password
    for u in data["users"]:
        if find_user(u["username"]) is None:
            _, pw = create_user(u["username"], password=shared, display_name=u["display_name"], email=u["email"])
            if not password:
                shared = shared or pw            # one generated password for every demo user
                report.created_passwords.setdefault("demo users", pw)
    for u in data["users"]:              # the directory (department, leader), once every user exists
        user = find_user(u["username"])
        if not user.department and not user.leader:
            user.department, user.leader = u.get("department", ""), u.get("leader", "")
    for r in data["roles"]:
        ensure_role(r["key"], r["name"])
        for member in r["members"]:
            add_role_member(r["key"], member)
    catalogs = {}

    def walk(items, parent=None):
        for order, item in enumerate(items):
            catalogs[item["key"]] = ensure_catalog(item["key"], item["name"], parent=parent,
                                                   desc=item.get("desc", ""), order=order)
            walk(item.get("children", []), catalogs[item["key"]])

    walk(data["catalogs"])
    for s in data["services"]:
        version = latest_version(s["flow"])
        if version is None:
            version = deploy_flow(s["flow"], by="admin")
            report.deployed.append(f"{version.flow_key} v{version.version_number}")
        flow_row = db.session.execute(select(Flow).where(Flow.key == s["flow"])).scalar_one()
        ensure_service(s["key"], s["name"], service_type=flow_row.service_type, flow_version_id=version.id,
                       desc=s.get("desc", ""), owners="admin", catalogs=[catalogs[c] for c in s["catalogs"]])
