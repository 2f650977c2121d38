"""角色配置: general roles with members, CMDB business roles (read-only, synced), admin roles."""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_admin import expose

from app.i18n import gettext, lazy_gettext as _l
from app.models import Role
from app.services import flows, people

from .base import SecureModelView, format_dt
from .people_fields import PersonField, PeopleField


def _members(view, context, model, name):
    return "、".join(model.usernames) or "—"


class GeneralRoleView(SecureModelView):
    audit_model = "Role"
    column_list = ["name", "key", "desc", "members"]
    column_labels = {"name": _l("角色名称"), "key": _l("角色标识"), "desc": _l("描述"), "members": _l("成员"), "member_names": _l("成员")}
    column_searchable_list = ["name", "key", "desc"]
    column_filters = ["name"]
    column_formatters = {"members": _members}
    form_columns = ["name", "key", "desc", "member_names"]
    form_extra_fields = {"member_names": PeopleField(_l("成员"), description=_l("输入用户名或姓名搜索，可选多人"))}
    form_args = {"key": {"label": _l("角色标识"), "description": _l("流程的处理人设置按角色标识引用该角色")}}

    def get_query(self):
        return super().get_query().filter(Role.type == "GENERAL")

    def get_count_query(self):
        return super().get_count_query().filter(Role.type == "GENERAL")

    def get_one(self, id):
        role = super().get_one(id)
        return role if role is not None and role.type == "GENERAL" else None

    def on_form_prefill(self, form, id):
        form.member_names.set_people(self.get_one(id).usernames)

    def audit_extra(self, model):
        return {"members": model.usernames}

    def update_model(self, form, model):
        from flask import g

        g.role_old_key = model.key
        return super().update_model(form, model)

    def check_change(self, form, model, is_created):
        from flask import g

        model.type = "GENERAL"
        people.check_general_role_key(model)
        old_key = g.pop("role_old_key", None)
        if not is_created and old_key and old_key != model.key:
            flows.check_role_removable(old_key, model.name, verb="修改角色标识")
        people.set_role_members(model, form.member_names.data or [])

    def check_delete(self, model):
        flows.check_role_removable(model.key, model.name)


class CmdbRoleView(SecureModelView):
    """CMDB business roles: read-only here; "sync now" replaces them from the configured source."""

    audit_model = "Role"
    can_create = can_edit = can_delete = False
    column_list = ["name", "key", "bk_biz_id", "members"]
    column_labels = {"name": _l("角色名称"), "key": _l("角色标识"), "bk_biz_id": _l("业务 ID"), "members": _l("成员")}
    column_searchable_list = ["name", "key"]
    column_filters = ["bk_biz_id"]
    column_formatters = {"members": _members}
    form_columns: list[str] = []
    list_template = "admin/roles/cmdb_list.html"

    def get_query(self):
        return super().get_query().filter(Role.type == "CMDB")

    def get_count_query(self):
        return super().get_count_query().filter(Role.type == "CMDB")

    @expose("/sync/", methods=["POST"])
    def sync(self):
        source, instance_path = people.cmdb_source(), current_app.instance_path
        result = self.run_outside_transaction(
            lambda: source, lambda src: people.fetch_cmdb_roles(src, instance_path),
            lambda _src, roles: people.sync_cmdb_roles(roles, by=self.actor))
        if result:
            flash(gettext("已从 CMDB 同步 {n} 个业务角色（移除 {removed} 个）", n=result["roles"], removed=result["removed"]),
                  "success")
        return redirect(url_for(".index_view"))


class AdminRoleView(SecureModelView):
    """Admin roles (管理员角色): ITSM super admin and statistics admin, given by a super admin."""

    audit_model = "User"
    can_create = can_delete = False
    column_list = ["username", "display_name", "email", "is_superuser", "is_stats_admin", "is_enabled", "last_login_at"]
    column_labels = {"username": _l("用户名"), "display_name": _l("姓名"), "email": _l("邮箱"), "is_superuser": _l("ITSM 超级管理员"),
                     "is_stats_admin": _l("统计管理员"), "is_enabled": _l("启用"), "last_login_at": _l("最近登录")}
    column_searchable_list = ["username", "display_name", "email"]
    column_filters = ["is_superuser", "is_stats_admin", "is_enabled"]
    column_formatters = {"last_login_at": format_dt}
    form_columns = ["is_superuser", "is_stats_admin"]

    def update_model(self, form, model):
        try:
            people.check_admin_roles_change(model, by=self.actor, is_superuser=bool(form.is_superuser.data))
        except Exception as exc:  # ItsmError: flash it and keep the row as it was
            if not self.handle_view_exception(exc):
                raise
            return False
        return super().update_model(form, model)

    def audit_extra(self, model):
        return {}

    def _snapshot(self, model):
        return {"username": model.username, "is_superuser": model.is_superuser, "is_stats_admin": model.is_stats_admin}



class DirectoryView(SecureModelView):
    """组织架构: each user's department and leader (what ORGANIZATION / STARTER_LEADER / ASSIGN_LEADER resolve)."""

    audit_model = "User"
    can_create = can_delete = False
    column_list = ["username", "display_name", "department", "leader", "is_enabled"]
    column_labels = {"username": _l("用户名"), "display_name": _l("姓名"), "department": _l("部门"), "leader": _l("直属领导"),
                     "is_enabled": _l("启用")}
    column_searchable_list = ["username", "display_name", "department", "leader"]
    column_filters = ["department", "is_enabled"]
    form_columns = ["department", "leader"]
    form_overrides = {"leader": PersonField}
    form_args = {"leader": {"label": _l("直属领导"), "description": _l("输入用户名或姓名搜索")}}

    def check_change(self, form, model, is_created) -> None:
        model.department, model.leader = (model.department or "").strip(), (model.leader or "").strip()
        people.check_directory_entry(model.username, model.department, model.leader)

    def audit_extra(self, model):
        return {}

    def _snapshot(self, model):
        return {"username": model.username, "department": model.department, "leader": model.leader}
