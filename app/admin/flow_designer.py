"""The visual flow designer's page and JSON endpoints (mixed into FlowView): the manual's three steps
基本信息 → 流程设计 → 部署, drawn by app/static/designer/designer.js."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_admin import expose

from app.errors import ItsmError
from app.extensions import db
from app.i18n import get_locale
from app.i18n.en_designer import DESIGNER_EN
from app.infra.uow import commit
from app.services import flows


class DesignerMixin:
    """Routes of the canvas: the page, a check (YAML, diff, issues in Chinese, form preview) and a save."""

    @expose("/designer/", methods=["GET"])
    def designer_new_view(self):
        return self._designer_page(None)

    @expose("/designer/<int:id>", methods=["GET"])
    def designer_view(self, id):
        return self._designer_page(id)

    def _designer_page(self, flow_id: int | None):
        try:
            state = flows.designer_state(flow_id)
        except ItsmError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".index_view"))
        english = get_locale() == "en"
        config = {"flow_id": flow_id, "state": state, "vocabulary": flows.vocabulary(),
                  "lang": "en" if english else "zh", "messages": DESIGNER_EN if english else {},
                  "urls": {"check": url_for(".designer_check"), "save": url_for(".designer_save"),
                           "deploy": url_for(".designer_deploy"),
                           "list": url_for(".index_view")}}
        return self.render("admin/flow/designer.html", designer_config=config, flow_id=flow_id)

    @staticmethod
    def _payload() -> tuple[int | None, object, str | None]:
        """(flow id or None for a new flow, the canvas's flow data, the revision it opened) from the JSON body."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, None, None
        flow_id = body.get("flow_id")
        if isinstance(flow_id, str) and flow_id.isdigit():
            flow_id = int(flow_id)
        opened = body.get("revision")
        return ((flow_id if isinstance(flow_id, int) and not isinstance(flow_id, bool) else None), body.get("data"),
                opened if isinstance(opened, str) else None)

    @expose("/designer/check", methods=["POST"])
    def designer_check(self):
        """The YAML the canvas would save, the diff against the stored YAML, the issues and the form preview."""
        flow_id, data, opened = self._payload()
        try:
            result = flows.preview_designer_edit(data, flow_id=flow_id, opened=opened)
        except ItsmError as exc:
            db.session.rollback()
            return jsonify(ok=False, error=exc.message, issues=[], warnings=[], diff="", source=""), 400
        flow = flows.check_flow_text(result["source"])[0] if result["ok"] else None
        if flow is not None:
            from .flows import preview_context

            result["preview"] = render_template("admin/flow/_preview.html", **preview_context(flow.definition))
        return jsonify(result)

    @expose("/designer/save", methods=["POST"])
    def designer_save(self):
        """Write the canvas's flow into the template's YAML (one unit of work); errors save nothing."""
        flow_id, data, opened = self._payload()
        try:
            row = flows.save_designer_edit(data, by=self.actor, flow_id=flow_id, opened=opened)
            source = row.source
            commit()
        except ItsmError as exc:
            db.session.rollback()
            return jsonify(ok=False, error=exc.message), 400
        return jsonify(ok=True, id=row.id, name=row.name, revision=flows.revision(source), designer=url_for(".designer_view", id=row.id),
                       deploy=url_for(".deploy_view", id=row.id))

    @expose("/designer/deploy", methods=["POST"])
    def designer_deploy(self):
        """Deploy the saved template as a new version with the notify policy its YAML sets (the designer's
        任务通知策略); the deploy page remains for choosing another policy at deploy time."""
        flow_id = self._payload()[0]
        if flow_id is None:
            return jsonify(ok=False, error="Save the flow before deploying it" if get_locale() == "en" else "请先保存流程再部署"), 400
        try:
            version = flows.deploy(flow_id, by=self.actor)
            name, number = version.name, version.version_number
            commit()
        except ItsmError as exc:
            db.session.rollback()
            return jsonify(ok=False, error=exc.message), 400
        if get_locale() == "en":
            return jsonify(ok=True, message=f"Deployed: {name} v{number}. See it under flow versions and bind it to a service.")
        return jsonify(ok=True, message=f"已部署：{name} v{number}。可在「流程版本」中查看，并在服务中关联该版本。")
