"""API apps (应用): the client systems allowed to call the BlueKing-compatible API."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from app.errors import ValidationFailed

from app.i18n import gettext, lazy_gettext as _l
from app.services import system
from app.services.integration import clean_callback_hosts, create_api_app, reset_api_app_secret

from .base import AdminForm, SecureModelView, format_dt


class ApiAppForm(AdminForm):
    app_code = StringField(_l("应用 ID（bk_app_code）"), validators=[
        InputRequired(_l("请填写应用 ID")), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("应用 ID 只能包含字母、数字、下划线、点和短横线"))])
    name = StringField(_l("名称"), validators=[Length(max=128)])
    act_for_users = BooleanField(_l("允许以 bk_username 代替用户调用"), description=(
        _l("开启后该应用也可只凭应用身份（不带 bk_username / bk_token）调用蓝鲸网关标为无需用户的接口，"
        "在请求体中指明提单人、处理人、审批人等用户（如 bk-hcm）")))
    is_enabled = BooleanField(_l("启用"), default=True)
    callback_hosts = TextAreaField(
        _l("回调白名单"), description=_l("单据结果回调（meta.callback_url）允许发往的主机，每行一个，"
                             "*.example.com 表示其子域名；留空则不接受回调地址"))
    callback_private = BooleanField(_l("允许回调内网地址"),
                                    description=_l("允许回调发往内网、本机、链路本地地址（仅在回调接收方确在内网时开启）"))

    def validate_callback_hosts(self, field):
        try:
            field.data = clean_callback_hosts(field.data)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from None


class ApiAppView(SecureModelView):
    """List, register (the secret is shown once), reset the secret, enable/disable, delete."""

    column_list = ["app_code", "name", "act_for_users", "is_enabled", "callback_hosts", "callback_private",
                   "created_by", "created_at"]
    column_labels = {"app_code": _l("应用 ID"), "name": _l("名称"), "act_for_users": _l("可代替用户"), "is_enabled": _l("启用"),
                     "callback_hosts": _l("回调白名单"), "callback_private": _l("允许内网回调"),
                     "created_by": _l("创建人"), "created_at": _l("创建时间")}
    column_searchable_list = ["app_code", "name"]
    column_filters = ["act_for_users", "is_enabled"]
    column_formatters = {"created_at": format_dt}
    form = ApiAppForm
    form_excluded_columns = ["secret_digest"]
    audit_model = "ApiApp"

    def create_model(self, form):
        """Register through the service, which generates the secret; show it once."""
        def register():
            row, secret = create_api_app(form.app_code.data.strip(), name=form.name.data or "",
                                         act_for_users=bool(form.act_for_users.data), by=self.actor,
                                         callback_hosts=form.callback_hosts.data or "",
                                         callback_private=bool(form.callback_private.data))
            row.is_enabled = bool(form.is_enabled.data)
            system.record(self.actor, "create", "ApiApp", str(row.id), after=self._snapshot(row),
                               summary=row.app_code)
            return row, secret

        result = self.run(register)
        if not result:
            return False
        row, secret = result
        flash(gettext("应用 {code} 已创建。bk_app_secret（只显示这一次，请妥善保存）：{secret}", code=row.app_code, secret=secret),
              "success")
        return row

    def on_form_prefill(self, form, id):
        form.app_code.render_kw = {"readonly": True}

    def update_model(self, form, model):
        form.app_code.data = model.app_code       # the code identifies the app: never renamed
        return super().update_model(form, model)

    @action("reset_secret", _l("重置密钥"), _l("重置后旧密钥立即失效，确认重置？"))
    def action_reset_secret(self, ids):
        for pk in self.action_ids(ids):
            model = self.get_one(str(pk))
            if model is None:
                continue
            secret = self.run(lambda m=model: reset_api_app_secret(m.app_code))
            if secret:
                system.record(self.actor, "update", "ApiApp", str(model.id), summary=f"{model.app_code} 重置密钥")
                self.run(lambda: None)
                flash(gettext("应用 {code} 的新 bk_app_secret（只显示这一次）：{secret}", code=model.app_code, secret=secret),
                      "success")
