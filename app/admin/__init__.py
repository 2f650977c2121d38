"""The back office (后台管理): Flask-Admin views, built in `init_admin(app)`, super admins only."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import Babel

from app.extensions import db


TRANSLATIONS = str(Path(__file__).parent / "translations")


def _admin_locale() -> str:
    """Flask-Admin's catalogue for the user's language (Chinese unless they chose English).

    Chinese is `zh_Hans`, a locale Flask-Admin ships no catalogue for, so only our own
    `app/admin/translations/zh_Hans` applies: Flask-Admin's wording with the manual's terms
    (新增, 批量操作, 20 条/页, 暂无记录) instead of leftovers such as 「20 项目」 or 「选中的」.
    """
    try:
        from app.i18n import get_locale
    except ImportError:
        return "zh_Hans"
    return "en" if get_locale() == "en" else "zh_Hans"


def init_admin(app: Flask) -> Admin:
    """Create the admin and its views (never at import time: one Admin per app)."""
    from app.models import (
        ApiApp,
        ApiCallLog,
        ApiDef,
        ApiSystem,
        AuditLog,
        Catalog,
        Dictionary,
        Flow,
        FlowVersion,
        Role,
        Service,
        User,
    )

    from .api_apps import ApiAppView
    from .base import SecureIndexView
    from .catalog import CatalogView, ServiceView
    from .flows import FlowVersionView, FlowView
    from .integration import ApiCallLogView, ApiSystemView, ApiView
    from .roles import AdminRoleView, CmdbRoleView, DirectoryView, GeneralRoleView
    from .system import AuditLogView, DictionaryView, SettingsView

    if "babel" not in app.extensions:
        # Only for Flask-Admin's own buttons and messages; the front office keeps its own `_`/get_locale
        # in Jinja, so Flask-Babel must not touch the Jinja environment.
        Babel(app, locale_selector=_admin_locale, configure_jinja=False)
    app.config.setdefault("CMDB_SOURCE", "cmdb_roles.yaml")
    admin = Admin(app, name="ITSM 后台管理", theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "cerulean"),
                                                               base_template="admin/itsm_master.html", fluid=True),
                  index_view=SecureIndexView(name="概览", url="/admin"), translations_path=TRANSLATIONS)
    admin.add_view(ServiceView(Service, db, name="服务", category="服务管理", endpoint="service"))
    admin.add_view(CatalogView(Catalog, db, name="服务目录", category="服务管理", endpoint="catalog"))
    admin.add_view(FlowView(Flow, db, name="流程设计", category="流程管理", endpoint="flow"))
    admin.add_view(FlowVersionView(FlowVersion, db, name="流程版本", category="流程管理", endpoint="flowversion"))
    admin.add_view(ApiSystemView(ApiSystem, db, name="接入系统", category="流程管理", endpoint="apisystem"))
    admin.add_view(ApiView(ApiDef, db, name="API 配置", category="流程管理", endpoint="apidef"))
    admin.add_view(GeneralRoleView(Role, db, name="通用角色表", category="角色配置", endpoint="role"))
    admin.add_view(CmdbRoleView(Role, db, name="业务角色表", category="角色配置", endpoint="cmdbrole"))
    admin.add_view(AdminRoleView(User, db, name="管理员角色表", category="角色配置", endpoint="adminrole"))
    admin.add_view(DirectoryView(User, db, name="组织架构", category="角色配置", endpoint="directory"))
    admin.add_view(DictionaryView(Dictionary, db, name="数据字典", category="系统配置", endpoint="dictionary"))
    admin.add_view(SettingsView(name="基础配置", category="系统配置", endpoint="settings"))
    admin.add_view(ApiAppView(ApiApp, db, name="API 应用", category="系统配置", endpoint="apiapp"))
    admin.add_view(ApiCallLogView(ApiCallLog, db, name="接口日志", category="系统配置", endpoint="apicalllog"))
    admin.add_view(AuditLogView(AuditLog, db, name="审计日志", category="系统配置", endpoint="auditlog"))
    from app.models import Notification

    from .notify import NotificationView, NotifySettingsView

    admin.add_view(NotifySettingsView(name="通知配置", category="系统配置", endpoint="notifysettings"))
    from app.admin.sla import SlaFilesView
    admin.add_view(SlaFilesView(name="服务级别", category="流程管理", endpoint="slafiles"))
    admin.add_view(NotificationView(Notification, db, name="通知记录", category="系统配置", endpoint="notification"))
    from .alerts import AlertsView

    admin.add_view(AlertsView(name="告警接入", category="系统配置", endpoint="alerts"))
    return admin
