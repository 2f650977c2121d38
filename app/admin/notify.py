"""通知配置 and 通知记录: SMTP, webhook and WeCom robot targets, reminder time, notice templates, the outbox."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from wtforms import DecimalField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import PasswordInput

from app.i18n import gettext, lazy_gettext as _l
from app.integrations.notify.smtp import SECURITY
from app.services import notify, tickets

from .base import AdminForm, SecureModelView, SecureView, format_dt, named_choices


CHANNEL_NAMES = {"email": "邮件", "webhook": "Webhook", "wecom": "企业微信机器人"}

class SmtpForm(AdminForm):
    host = StringField(_l("SMTP 服务器"), description=_l("留空则不发送邮件"))
    port = IntegerField(_l("端口"), default=25, validators=[Optional()])
    security = SelectField(_l("加密方式"), choices=[SelectChoice(s, {"none": _l("不加密"), "starttls": "STARTTLS", "ssl": "SSL/TLS"}[s])
                                              for s in SECURITY])
    username = StringField(_l("用户名"))
    password = PasswordField(_l("密码"), widget=PasswordInput(hide_value=False),
                             description=_l("显示为 ****** 表示已保存；保持不变即沿用，清空即删除"))
    sender = StringField(_l("发件人"), description=_l("如 ITSM <itsm@example.com>"))
    timeout = DecimalField(_l("超时（秒）"), default=10, places=1, validators=[Optional()])


class WebhookForm(AdminForm):
    url = StringField(_l("Webhook 地址"), description=_l("通知以 JSON POST 到该地址；留空则不发送"))
    secret = PasswordField(_l("签名密钥"), widget=PasswordInput(hide_value=False),
                           description=_l("请求头 X-ITSM-Signature: sha256=HMAC-SHA256(请求体, 密钥)"))
    timeout = DecimalField(_l("超时（秒）"), default=10, places=1, validators=[Optional()])


class WecomForm(AdminForm):
    url = StringField(_l("机器人地址"), description=_l("群机器人的 Webhook 地址（含 key=...）；key 作为密钥保存并隐藏"))
    timeout = DecimalField(_l("超时（秒）"), default=10, places=1, validators=[Optional()])


class ReminderForm(AdminForm):
    daily_time = StringField(_l("每日提醒时间"), description=_l("HH:MM（本地时间）；频率为“每天”的流程在此时间后提醒仍未处理的步骤"))


class TemplateForm(AdminForm):
    source = TextAreaField(_l("模板"), render_kw={"rows": 18, "class": "yaml-editor", "style": "min-height: 320px"})


class NotifySettingsView(SecureView):
    """通知配置: channel targets (secrets masked), the daily reminder time, templates, test sends."""

    @expose("/")
    def index(self):
        smtp, webhook, wecom = (notify.masked_config(k) for k in (notify.SMTP, notify.WEBHOOK, notify.WECOM))
        hours, minutes = notify.daily_time()
        return self.render("admin/notify/index.html", smtp_form=SmtpForm(data=smtp), webhook_form=WebhookForm(data=webhook),
                           wecom_form=WecomForm(data=wecom), reminder_form=ReminderForm(data={"daily_time": f"{hours:02d}:{minutes:02d}"}),
                           kinds=notify.template_kinds())

    def _save(self, form_class, save, done: str):
        form = form_class(request.form)
        if form.validate() and self.run(lambda: save(form)):
            flash(done, "success")
        else:
            for errors in form.errors.values():
                flash("；".join(map(str, errors)), "error")
        return redirect(url_for(".index"))

    @expose("/smtp/", methods=["POST"])
    def save_smtp(self):
        return self._save(SmtpForm, lambda f: notify.save_smtp(
            host=f.host.data, port=f.port.data, security=f.security.data, username=f.username.data,
            password=f.password.data, sender=f.sender.data, timeout=f.timeout.data, by=self.actor), gettext("SMTP 配置已保存"))

    @expose("/webhook/", methods=["POST"])
    def save_webhook(self):
        return self._save(WebhookForm, lambda f: notify.save_webhook(url=f.url.data, secret=f.secret.data,
                                                                 timeout=f.timeout.data, by=self.actor), gettext("Webhook 配置已保存"))

    @expose("/wecom/", methods=["POST"])
    def save_wecom(self):
        return self._save(WecomForm, lambda f: notify.save_wecom(url=f.url.data, timeout=f.timeout.data, by=self.actor),
                          gettext("企业微信机器人配置已保存"))

    @expose("/reminder/", methods=["POST"])
    def save_reminder(self):
        return self._save(ReminderForm, lambda f: notify.save_daily_time(f.daily_time.data, by=self.actor), gettext("每日提醒时间已保存"))

    @expose("/test/<channel>/", methods=["POST"])
    def send_test(self, channel):
        username = current_user.username
        result = self.run_outside_transaction(
            lambda: notify.test_message(channel, username),
            notify.send_test_message, notify.record_test_message)
        if result is not None:
            if result.ok:
                flash(gettext("测试通知已发送（{channel}）", channel=gettext(CHANNEL_NAMES.get(channel, channel))), "success")
            else:
                flash(gettext("测试通知发送失败（{channel}）：{error}", channel=gettext(CHANNEL_NAMES.get(channel, channel)),
                              error=gettext(result.error)), "error")
        return redirect(url_for(".index"))

    @expose("/template/<kind>/", methods=["GET", "POST"])
    def template(self, kind):
        if kind not in notify.KINDS and kind != notify.LAYOUT:
            abort(404)
        form = TemplateForm(request.form if request.method == "POST" else None, data={"source": notify.template_source(kind)})
        sample = None
        if request.method == "POST" and form.validate():
            sample = self.run(lambda: notify.save_template(kind, form.source.data, by=self.actor))
            if sample:
                flash(gettext("模板已保存"), "success")
        name = gettext(dict(notify.KINDS, **{notify.LAYOUT: "邮件 HTML 外框"})[kind])
        return self.render("admin/notify/template.html", form=form, kind=kind, name=name, sample=sample,
                           context=notify.sample_context(), custom=notify.override_source(kind) is not None)

    @expose("/template/<kind>/reset/", methods=["POST"])
    def reset_template(self, kind):
        if self.run(lambda: notify.reset_template(kind, by=self.actor)):
            flash(gettext("已恢复默认模板"), "success")
        return redirect(url_for(".template", kind=kind))


def _ticket_link(view, context, model, name):
    """The notice's ticket by its number, linked to its page ("—" for notices about no ticket)."""
    if not model.ticket_id:
        return "—"
    return Markup('<a href="{}">{}</a>').format(url_for("tickets.detail", ticket_id=model.ticket_id),
                                                 tickets.ticket_number(model.ticket_id) or model.ticket_id)


class NotificationView(SecureModelView):
    """通知记录: the outbox, read-only; FAILED notices can be queued again."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ["id", "created_at", "ticket_id", "kind", "recipients", "status", "attempts", "next_attempt_at",
                   "claimed_by"]
    column_details_list = ["id", "created_at", "ticket_id", "kind", "recipients", "message", "status", "attempts",
                           "next_attempt_at", "claimed_by", "claimed_at"]
    column_labels = {"id": "ID", "created_at": _l("创建时间"), "ticket_id": _l("单据"), "kind": _l("类型"), "recipients": _l("接收人"),
                     "status": _l("状态"), "attempts": _l("尝试次数"), "next_attempt_at": _l("下次尝试"), "claimed_by": _l("处理进程"),
                     "claimed_at": _l("领取时间"), "message": _l("备注")}
    column_filters = ["status", "kind", "created_at"]
    column_choices = {"status": named_choices(notify.NOTICE_STATUS_NAMES), "kind": named_choices(notify.KINDS)}
    column_default_sort = ("id", True)
    column_formatters = {"created_at": format_dt, "next_attempt_at": format_dt, "claimed_at": format_dt,
                         "kind": lambda v, c, m, n: gettext(notify.KINDS.get(m.kind, m.kind)),
                         "status": lambda v, c, m, n: gettext(notify.NOTICE_STATUS_NAMES.get(m.status, m.status)),
                         "ticket_id": _ticket_link,
                         "recipients": lambda v, c, m, n: ", ".join(m.recipients or [])}
    action_disallowed_list = ["delete"]

    @action("retry", _l("重新发送"), _l("将选中的失败通知重新排入发送队列？"))
    def action_retry(self, ids):
        count = self.run(lambda: notify.retry_notifications(self.action_ids(ids), by=self.actor))
        if count:
            flash(gettext("已重新排队 {n} 条通知", n=count), "success")
