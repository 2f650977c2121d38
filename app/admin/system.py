"""系统配置: data dictionaries, basic configuration, API call logs, and the audit log."""
from __future__ import annotations

import json

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from markupsafe import Markup, escape
from wtforms import DecimalField, StringField
from wtforms.validators import InputRequired, NumberRange

from app.i18n import gettext, lazy_gettext as _l
from app.services import system
from app.services.system import load_dictionary_files

from .base import AdminForm, SecureModelView, SecureView, format_dt


def _item_count(view, context, model, name):
    return len(model.items)


class DictionaryView(SecureModelView):
    """Dictionaries, with their items edited as a table (key, name, parent, order, enabled) on the same form."""

    column_list = ["key", "name", "desc", "is_enabled", "items", "updated_by", "updated_at"]
    column_labels = {"key": _l("编码"), "name": _l("名称"), "desc": _l("描述"), "is_enabled": _l("启用"), "items": _l("字典项数"),
                     "updated_by": _l("更新人"), "updated_at": _l("更新时间")}
    column_searchable_list = ["key", "name", "desc"]
    column_filters = ["is_enabled", "updated_at"]
    column_sortable_list = ["key", "name", "updated_at"]
    column_formatters = {"items": _item_count, "updated_at": format_dt}
    form_columns = ["key", "name", "desc", "is_enabled"]
    form_args = {"key": {"label": _l("编码"), "description": _l("大写字母、数字或下划线，如 RISK_LEVEL；流程中的选项字段按编码引用该字典")}}
    list_template = "admin/system/dictionary_list.html"
    create_template = "admin/system/dictionary_create.html"
    edit_template = "admin/system/dictionary_edit.html"
    spare_rows = 1          # empty rows under the table: without JavaScript they are how a row is added

    def item_rows(self, model=None) -> list:
        """The table's rows: as posted when a save was refused (nothing typed is lost), else as stored."""
        if request.method == "POST":
            rows = [r for r in system.rows_from_form(request.form) if not r.blank]
        else:
            rows = system.rows_of(model)
        return rows + [system.ItemRow(number=len(rows) + n + 1) for n in range(self.spare_rows)]

    @staticmethod
    def item_depths(rows) -> dict:
        return system.depth_of(rows)

    def update_model(self, form, model):
        from flask import g

        g.dictionary_old_key = model.key
        return super().update_model(form, model)

    def audit_extra(self, model):
        return {"items": system.items_tree(model)}

    def check_change(self, form, model, is_created):
        from flask import g

        system.check_key_unique(model)
        if not is_created:
            system.check_dictionary_change(model, old_key=g.pop("dictionary_old_key", None))
        model.updated_by = self.actor
        system.save_items(model, system.rows_from_form(request.form))

    def check_delete(self, model):
        system.check_dictionary_change(model, old_key=model.key, deleting=True)

    @expose("/load/", methods=["POST"])
    def load_files(self):
        directory = current_app.config["DICTIONARIES_DIR"]

        def load():
            from app.errors import ValidationFailed
            from app.flowdef.dictionaries import DictionaryLoadError
            from app.services import system

            try:
                rows = load_dictionary_files(directory, by=self.actor)
            except DictionaryLoadError as exc:
                raise ValidationFailed("字典文件有错误:\n" + str(exc)) from None
            system.record(self.actor, "load", "Dictionary", "", after={"keys": [r.key for r in rows]},
                               summary=f"从 {directory} 加载 {len(rows)} 个字典")
            return rows

        rows = self.run(load)
        if rows:
            flash(gettext("已从字典文件加载 {n} 个数据字典", n=len(rows)), "success")
        return redirect(url_for(".index_view"))


class AttachmentForm(AdminForm):
    upload_dir = StringField(_l("附件存储目录"), validators=[InputRequired(_l("请填写附件存储目录"))])
    upload_max_mb = DecimalField(_l("单个附件大小上限（MB）"), places=2,
                                 validators=[InputRequired(_l("请填写大小上限")), NumberRange(0.01, 1024, _l("应在 0.01 到 1024 之间"))])


class SettingsView(SecureView):
    """基础配置: attachment storage and the CMDB cache."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        current = system.attachment_settings()
        form = AttachmentForm(request.form if request.method == "POST" else None, data=current)
        if request.method == "POST" and form.validate():
            if self.run(lambda: system.save_attachment_settings(
                    form.upload_dir.data, float(form.upload_max_mb.data), by=self.actor)):
                flash(gettext("附件存储配置已保存"), "success")
                return redirect(url_for(".index"))
        return self.render("admin/system/settings.html", form=form,
                           cleared_at=system.get_setting(system.CACHE_CLEARED_AT),
                           cmdb_source=current_app.config.get("CMDB_SOURCE") or "instance/cmdb_roles.yaml")

    @expose("/clear-cache/", methods=["POST"])
    def clear_cache(self):
        when = self.run(lambda: system.clear_cache(by=self.actor))
        if when:
            flash(gettext("缓存已清除（{when}）", when=when), "success")
        return redirect(url_for(".index"))


def _pretty_json(view, context, model, name):
    value = getattr(model, name)
    if value is None:
        return "—"
    return Markup(f'<pre class="json mb-0">{escape(json.dumps(value, ensure_ascii=False, indent=1))}</pre>')


def _short_json(view, context, model, name):
    value = getattr(model, name)
    if value is None:
        return "—"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 120 else text[:117] + "…"


class AuditLogView(SecureModelView):
    """The audit log, read-only."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ["created_at", "actor", "action", "model", "object_id", "summary", "before", "after"]
    column_details_list = ["created_at", "actor", "action", "model", "object_id", "summary", "before", "after"]
    column_labels = {"created_at": _l("时间"), "actor": _l("操作人"), "action": _l("操作"), "model": _l("对象类型"), "object_id": _l("对象 ID"),
                     "summary": _l("说明"), "before": _l("修改前"), "after": _l("修改后")}
    column_searchable_list = ["actor", "model", "summary", "object_id"]
    column_filters = ["actor", "action", "model", "created_at"]
    column_default_sort = ("id", True)
    column_formatters = {"created_at": format_dt, "before": _short_json, "after": _short_json,
                         "action": lambda v, c, m, n: gettext(system.action_name(m.action)),
                         "model": lambda v, c, m, n: gettext(system.object_name(m.model))}
    column_formatters_detail = dict(column_formatters, before=_pretty_json, after=_pretty_json)
    form_columns: list[str] = []
    action_disallowed_list = ["delete"]
