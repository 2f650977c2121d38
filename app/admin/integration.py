"""API 配置: API systems (secrets masked), their APIs with a test call, and the API call log."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from markupsafe import Markup, escape
from wtforms import SelectField, TextAreaField

from app.extensions import db
from app.i18n import gettext, lazy_gettext as _l
from app.models import API_METHODS, ApiDef
from app.services import flows, integration, tickets

from .base import AdminForm, SecureModelView, format_dt


class ApiSystemView(SecureModelView):
    column_list = ["name", "key", "base_url", "auth_headers", "is_enabled", "updated_by", "updated_at"]
    column_labels = {"name": _l("系统名称"), "key": _l("系统标识"), "base_url": _l("系统地址"), "auth_headers": _l("认证头"),
                     "is_enabled": _l("启用"), "updated_by": _l("更新人"), "updated_at": _l("更新时间"), "desc": _l("描述"),
                     "headers_text": _l("认证头")}
    column_searchable_list = ["name", "key", "base_url"]
    column_filters = ["is_enabled"]
    column_formatters = {"auth_headers": lambda v, c, m, n: integration.masked_header_names(m.auth_headers),
                         "updated_at": format_dt}
    form_columns = ["name", "key", "base_url", "desc", "is_enabled", "headers_text"]
    form_extra_fields = {"headers_text": TextAreaField(
        _l("认证头"), render_kw={"rows": 4, "class": "yaml-editor", "style": "min-height: 90px"},
        description=_l("每行一个 “名称: 值”，如 Authorization: Bearer xxx。已保存的值显示为 ******，保持不变即沿用原值。"))}
    form_args = {"base_url": {"label": _l("系统地址"), "description": _l("如 https://cmdb.example.com/api")}}

    def on_form_prefill(self, form, id):
        form.headers_text.data = integration.masked_headers_text(self.get_one(id).auth_headers)

    def check_change(self, form, model, is_created):
        previous = dict(model.auth_headers or {})
        model.auth_headers = integration.parse_headers(form.headers_text.data or "", previous)
        integration.check_system(model)
        model.updated_by = self.actor

    def check_delete(self, model):
        from app.errors import OperationRefused

        if model.apis:
            raise OperationRefused(gettext("系统「{name}」下还有 {n} 个 API，请先删除这些 API", name=model.name, n=len(model.apis)))


class ApiTestForm(AdminForm):
    body = TextAreaField(_l("请求参数（JSON，留空则用请求模板）"), render_kw={"rows": 6, "class": "yaml-editor",
                                                                 "style": "min-height: 120px"})


def _api_ops(view, context, model, name):
    return Markup(f'<a class="btn btn-outline-primary btn-sm py-0" href="{url_for(".test_view", id=model.id)}">{escape(gettext("测试调用"))}</a>')


class ApiView(SecureModelView):
    audit_model = "ApiDef"
    column_list = ["system", "name", "key", "method", "path", "is_enabled", "updated_at", "ops"]
    column_labels = {"system": _l("所属系统"), "name": _l("API 名称"), "key": _l("API 标识"), "method": _l("请求方法"), "path": _l("接口路径"),
                     "request_template": _l("请求模板（JSON）"), "response_mapping": _l("返回映射（JSON）"), "desc": _l("描述"),
                     "is_enabled": _l("启用"), "follow_redirects": _l("跟随重定向"), "updated_at": _l("更新时间"), "ops": _l("操作"),
                     "system.name": _l("所属系统")}
    column_searchable_list = ["name", "key", "path"]
    column_filters = ["system.name", "method", "is_enabled"]
    column_formatters = {"ops": _api_ops, "updated_at": format_dt, "system": lambda v, c, m, n: m.system.name}
    form_columns = ["system", "name", "key", "method", "path", "request_template", "response_mapping", "desc",
                    "is_enabled", "follow_redirects"]
    form_overrides = {"method": SelectField, "request_template": TextAreaField, "response_mapping": TextAreaField}
    form_args = {"system": {"label": _l("所属系统"), "get_label": "name"},
                 "method": {"label": _l("请求方法"), "choices": [(m, m) for m in API_METHODS]},
                 "request_template": {"render_kw": {"rows": 6, "class": "yaml-editor", "style": "min-height: 120px"},
                                      "description": _l("JSON 对象，调用时作为请求体（GET 时为查询参数）")},
                 "response_mapping": {"render_kw": {"rows": 4, "class": "yaml-editor", "style": "min-height: 90px"},
                                      "description": _l("JSON 对象：{\"名称\": \"返回数据中的路径\"}，如 {\"name\": \"data.name\"}")},
                 "follow_redirects": {"description": _l("默认不跟随：接口返回 3xx 时调用按失败处理")}}

    def update_model(self, form, model):
        from flask import g

        g.api_old_ref = (f"{model.system.key}.{model.key}" if model.system else None, model.is_enabled)
        return super().update_model(form, model)

    def check_change(self, form, model, is_created):
        from flask import g

        integration.check_api(model)
        old_ref, was_enabled = g.pop("api_old_ref", (None, False))
        if not is_created and old_ref:
            new_ref = f"{model.system.key}.{model.key}" if model.system else None
            if new_ref != old_ref:
                flows.check_api_removable(old_ref, model.name, verb="修改所属系统或 API 标识")
            elif was_enabled and not model.is_enabled:
                flows.check_api_removable(old_ref, model.name, verb="停用")
        model.updated_by = self.actor

    def check_delete(self, model):
        if model.system is not None:
            flows.check_api_removable(f"{model.system.key}.{model.key}", model.name)

    @expose("/test/<int:id>", methods=["GET", "POST"])
    def test_view(self, id):
        api = db.session.get(ApiDef, id)
        if api is None:
            flash(gettext("API 不存在"), "error")
            return redirect(url_for(".index_view"))
        form = ApiTestForm(request.form if request.method == "POST" else None)
        log = None
        if request.method == "POST" and form.validate():
            log = self.run_outside_transaction(
                lambda: integration.test_call_request(id, form.body.data or ""), integration.send_api,
                lambda call, result: integration.log_api_call(call, result, called_by=self.actor))
            api = db.session.get(ApiDef, id)
        return self.render("admin/system/api_test.html", api=api, form=form, log=log)


class ApiCallLogView(SecureModelView):
    """API call logs, read-only; bodies were stored with secrets masked."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    action_disallowed_list = ["delete"]
    column_list = ["created_at", "system", "api", "method", "url", "status_code", "ok", "duration_ms", "called_by"]
    column_details_list = ["created_at", "system", "api", "method", "url", "request_headers", "request_body",
                           "status_code", "ok", "response_body", "error", "duration_ms", "called_by", "ticket_id"]
    column_labels = {"created_at": _l("时间"), "system": _l("系统"), "api": "API", "method": _l("方法"), "url": _l("地址"),
                     "status_code": _l("状态码"), "ok": _l("成功"), "duration_ms": _l("耗时（毫秒）"), "called_by": _l("调用人"),
                     "request_headers": _l("请求头"), "request_body": _l("请求体"), "response_body": _l("返回内容"), "error": _l("错误"),
                     "ticket_id": _l("单据"), "system.name": _l("系统")}
    column_searchable_list = ["url", "called_by"]
    column_filters = ["system.name", "ok", "status_code", "created_at"]
    column_default_sort = ("id", True)
    column_formatters = {"created_at": format_dt,
                         "system": lambda v, c, m, n: m.system.name if m.system else "—",
                         "api": lambda v, c, m, n: m.api.name if m.api else "—"}
    column_formatters_detail = dict(column_formatters, ticket_id=lambda v, c, m, n: Markup(
        '<a href="/tickets/{}">{}</a>').format(m.ticket_id, tickets.ticket_number(m.ticket_id) or m.ticket_id)
        if m.ticket_id else "—")
    form_columns: list[str] = []
