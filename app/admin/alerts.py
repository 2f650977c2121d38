"""告警接入: alert rule files (the same YAML files as alerts_yaml/, validated before writing), receivers and
their secrets, and the queue of received payloads (rejected and failed ones with their reason, retry)."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose

from app.i18n import gettext, lazy_gettext as _l
from app.infra.public_url import public_base_url
from app.models import RECEIVER_KINDS
from app.services import alerts

from .base import SecureView

NEW_RULE_FILE = """\
rules:
  - key: my_rule
    name: 新告警规则
    source: alertmanager          # alertmanager | grafana | generic
    match: {severity: "~critical|warning"}
    service: incident_handle      # the incident service's key
    creator: admin                # tickets are opened as this user
    fields:
      title: "{{ labels.alertname }} {{ labels.instance | default('') }}"
"""

# what the page shows for a payload's status and a receiver's kind (Alertmanager and Grafana are product names)
PAYLOAD_STATUS_NAMES = {"PENDING": "待处理", "DONE": "已处理", "FAILED": "处理失败", "REJECTED": "已拒收"}
RECEIVER_KIND_NAMES = {"alertmanager": "Alertmanager", "grafana": "Grafana", "generic": "通用"}


class AlertsView(SecureView):
    """Rule files, receivers, received payloads."""

    @expose("/")
    def index(self):
        status = request.args.get("status") or None
        try:
            rule_count, problem = len(alerts.load_rules().rules), ""
        except alerts.RuleError as exc:
            rule_count, problem = 0, exc.message
        return self.render("admin/alerts/index.html", files=alerts.rule_files(), rule_count=rule_count,
                           problem=problem, receivers=alerts.list_receivers(), kinds=RECEIVER_KINDS,
                           payloads=alerts.recent_payloads(status), counts=alerts.payload_counts(), status=status,
                           base_url=public_base_url(), status_names=PAYLOAD_STATUS_NAMES,
                           kind_names=RECEIVER_KIND_NAMES)

    @expose("/file/", methods=["GET", "POST"])
    def edit_file(self):
        name = request.values.get("name", "").strip()
        text = request.form.get("text") if request.method == "POST" else None
        if text is not None:
            saved = self.run(lambda: alerts.save_rule_file(name, text.replace("\r\n", "\n")))
            if saved:
                flash(gettext("已保存 {name}：{n} 条规则", name=name, n=len(saved)), "success")
                return redirect(url_for(".index"))
        elif name:
            try:
                text = alerts.read_rule_file(name)
            except alerts.RuleError as exc:
                flash(gettext(exc.message), "error")
                return redirect(url_for(".index"))
        return self.render("admin/alerts/edit.html", name=name, text=text or NEW_RULE_FILE)

    @expose("/receiver/", methods=["POST"])
    def add_receiver(self):
        form = request.form
        basic_user = form.get("basic_user", "").strip()
        created = self.run(lambda: alerts.create_receiver(form.get("kind", ""), form.get("name", "").strip(),
                                                          auth="basic" if basic_user else "bearer",
                                                          username=basic_user))
        if created:
            receiver, secret = created
            flash(gettext("接收器 {path} 已创建，密钥（只显示这一次）：{secret}", path=f"/alerts/{receiver.kind}/{receiver.name}",
                           secret=secret), "success")
        return redirect(url_for(".index"))

    @expose("/receiver/<int:receiver_id>/rotate/", methods=["POST"])
    def rotate(self, receiver_id: int):
        secret = self.run(lambda: alerts.rotate_secret(receiver_id))
        if secret:
            flash(gettext("新密钥（只显示这一次，旧密钥已失效）：{secret}", secret=secret), "success")
        return redirect(url_for(".index"))

    @expose("/retry/", methods=["POST"])
    def retry(self):
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
        count = self.run(lambda: alerts.retry_payloads(ids))
        if count is not None:
            flash(gettext("{n} 条告警数据将重新处理", n=count if count is not True else 0), "success")
        return redirect(url_for(".index", status="PENDING"))
