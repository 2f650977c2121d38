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

    from app.i18n import lazy_gettext as _l

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
    admin = Admin(app, name=_l("ITSM 后台管理"), theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "cerulean"),
                                                               base_template="admin/itsm_master.html", fluid=True),
                  index_view=SecureIndexView(name=_l("概览"), url="/admin"), translations_path=TRANSLATIONS)
    admin.add_view(ServiceView(Service, db, name=_l("服务"), category=_l("服务管理"), endpoint="service"))
    admin.add_view(CatalogView(Catalog, db, name=_l("服务目录"), category=_l("服务管理"), endpoint="catalog"))
    admin.add_view(FlowView(Flow, db, name=_l("流程设计"), category=_l("流程管理"), endpoint="flow"))
    admin.add_view(FlowVersionView(FlowVersion, db, name=_l("流程版本"), category=_l("流程管理"), endpoint="flowversion"))
    admin.add_view(ApiSystemView(ApiSystem, db, name=_l("接入系统"), category=_l("流程管理"), endpoint="apisystem"))
    admin.add_view(ApiView(ApiDef, db, name=_l("API 配置"), category=_l("流程管理"), endpoint="apidef"))
    admin.add_view(GeneralRoleView(Role, db, name=_l("通用角色表"), category=_l("角色配置"), endpoint="role"))
    admin.add_view(CmdbRoleView(Role, db, name=_l("业务角色表"), category=_l("角色配置"), endpoint="cmdbrole"))
    admin.add_view(AdminRoleView(User, db, name=_l("管理员角色表"), category=_l("角色配置"), endpoint="adminrole"))
    admin.add_view(DirectoryView(User, db, name=_l("组织架构"), category=_l("角色配置"), endpoint="directory"))
    admin.add_view(DictionaryView(Dictionary, db, name=_l("数据字典"), category=_l("系统配置"), endpoint="dictionary"))
    admin.add_view(SettingsView(name=_l("基础配置"), category=_l("系统配置"), endpoint="settings"))
    admin.add_view(ApiAppView(ApiApp, db, name=_l("API 应用"), category=_l("系统配置"), endpoint="apiapp"))
    admin.add_view(ApiCallLogView(ApiCallLog, db, name=_l("接口日志"), category=_l("系统配置"), endpoint="apicalllog"))
    admin.add_view(AuditLogView(AuditLog, db, name=_l("审计日志"), category=_l("系统配置"), endpoint="auditlog"))
    from app.models import Notification

    from .notify import NotificationView, NotifySettingsView

    admin.add_view(NotifySettingsView(name=_l("通知配置"), category=_l("系统配置"), endpoint="notifysettings"))
    from app.admin.sla import SlaFilesView
    admin.add_view(SlaFilesView(name=_l("服务级别"), category=_l("流程管理"), endpoint="slafiles"))
    admin.add_view(NotificationView(Notification, db, name=_l("通知记录"), category=_l("系统配置"), endpoint="notification"))
    from .alerts import AlertsView

    admin.add_view(AlertsView(name=_l("告警接入"), category=_l("系统配置"), endpoint="alerts"))
    return admin
