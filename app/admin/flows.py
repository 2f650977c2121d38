"""流程管理: flow templates (YAML editor, live validation, graph and field previews, import/export, deploy)
and flow versions (preview, restore, delete)."""
from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from markupsafe import Markup, escape
from wtforms import BooleanField, FileField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.extensions import db
from app.i18n import gettext, lazy_gettext as _l, lazy_pgettext as _lp
from app.models import FLOW_STATUS_NAMES, Flow, FlowVersion
from app.services import flows
from app.services.catalog import SERVICE_TYPE_NAMES
from app.services.flows import layout_definition

from .base import AdminForm, SecureModelView, format_dt, named_choices
from .flow_designer import DesignerMixin
from .people_fields import PeopleField

STATUS_BADGES = {"DRAFT": "secondary", "ENABLED": "success", "CLOSED": "dark"}
NEW_FLOW_TEMPLATE = """\
key: my_flow
name: 新流程
service_type: request          # request | change | event | question
desc: ""
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
  - key: approve
    name: 审批
    kind: manual
    processors: {type: STARTER}
    fields:
      - key: result
        name: 审批结果
        type: RADIO
        required: true
        choices: [{key: agree, name: 同意}, {key: reject, name: 拒绝}]
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end, name: 同意, when: {field: result, op: "==", value: agree}}
  - {from: approve, to: submit, name: 退回, when: {field: result, op: "==", value: reject}}
"""


class FlowSourceForm(AdminForm):
    source = TextAreaField(_l("流程定义（YAML）"), validators=[InputRequired(_l("请填写流程定义"))])


class FlowImportForm(AdminForm):
    file = FileField(_l("流程文件（.yaml / .yml / .json，或蓝鲸 ITSM 导出的流程 JSON）"))
    text = TextAreaField(_l("或粘贴文件内容"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DeployForm(AdminForm):
    """The manual's 流程部署 dialog: the version's name, then the task notification policy."""

    version_name = StringField(_l("部署流程名"), validators=[Optional(), Length(max=128)],
                               description=_l("新版本的名称，留空则用流程名称"))
    notify = RadioField(_l("是否通知"), choices=[("yes", _l("是")), ("no", _l("否"))], default="yes")
    channels = MultiCheckboxField(_l("通知类型"), choices=[("email", _l("邮件")), ("webhook", "Webhook"),
                                                     ("wecom", _l("企业微信机器人")), ("log", _l("日志"))], default=["log"])
    frequency = RadioField(_l("通知频率"), choices=[("once", _l("首次通知，以后不再通知")),
                                                   ("daily", _l("首次通知后，次日起每天定时通知"))], default="once")
    supervise = RadioField(_l("是否督办"), choices=[("yes", _l("是")), ("no", _l("否"))], default="yes")
    supervise_starter = BooleanField(_l("提单人"), default=True)
    supervisors = PeopleField(_l("其他督办人"), description=_l("输入用户名或姓名搜索，可选多人"))


def _status(view, context, model, name):
    label = FLOW_STATUS_NAMES.get(model.status, model.status)
    return Markup(f'<span class="badge badge-{STATUS_BADGES.get(model.status, "secondary")}">{escape(gettext(label))}</span>')


def _flow_ops(view, context, model, name):
    links = [("设计", url_for(".designer_view", id=model.id)), ("预览", url_for(".preview", id=model.id)), ("部署", url_for(".deploy_view", id=model.id)),
             ("导出 YAML", url_for(".export", id=model.id, format="yaml")),
             ("导出 JSON", url_for(".export", id=model.id, format="json")),
             ("导出蓝鲸 JSON", url_for(".export", id=model.id, format="bk"))]
    exports = [(t, u) for t, u in links if t.startswith("导出")]       # the manual's 导出流程, one menu per format
    buttons = [Markup('<a class="btn btn-outline-primary btn-sm py-0" href="{}">{}</a>').format(u, gettext(t))
               for t, u in links if (t, u) not in exports]
    menu = Markup('<div class="btn-group"><button type="button" class="btn btn-outline-primary btn-sm py-0 dropdown-toggle" '
                  'data-toggle="dropdown">{}</button><div class="dropdown-menu">{}</div></div>').format(
        gettext("导出流程"), Markup("").join(Markup('<a class="dropdown-item" href="{}">{}</a>').format(u, gettext(t))
                                        for t, u in exports))
    return Markup(" ").join(buttons + [menu])


def preview_context(definition) -> dict:
    """What `admin/flow/_preview.html` needs: the graph layout and a form per node with fields."""
    from flask_wtf import FlaskForm

    from app.forms import build_form
    from app.services.fields import field_context

    forms = []
    for node in definition.nodes:
        if not node.fields:
            continue
        try:
            form = build_form(node.fields, field_context(), base=FlaskForm)(meta={"csrf": False}, formdata=None)
            forms.append((node, form, None))
        except Exception as exc:  # noqa: BLE001 - a preview must never break the editor
            forms.append((node, None, str(exc)))
    return {"graph": layout_definition(definition), "definition": definition, "node_forms": forms}


class FlowView(DesignerMixin, SecureModelView):
    column_list = ["name", "key", "service_type", "status", "biz_related", "updated_at", "updated_by", "ops"]
    column_labels = {"name": _l("流程名称"), "key": _l("流程标识"), "service_type": _l("服务类型"), "status": _l("状态"),
                     "biz_related": _l("关联业务"), "updated_at": _l("更新时间"), "updated_by": _l("更新人"), "ops": _l("操作"),
                     "desc": _l("描述")}
    column_searchable_list = ["name", "key", "desc"]
    column_filters = ["status", "service_type", "biz_related", "updated_at"]
    column_sortable_list = ["name", "key", "status", "updated_at"]
    column_default_sort = ("updated_at", True)
    column_choices = {"status": named_choices(FLOW_STATUS_NAMES), "service_type": named_choices(SERVICE_TYPE_NAMES)}
    column_formatters = {"status": _status, "ops": _flow_ops, "updated_at": format_dt,
                         "service_type": lambda v, c, m, n: gettext(SERVICE_TYPE_NAMES.get(m.service_type, m.service_type))}
    form_columns = ["source"]
    list_template = "admin/flow/list.html"

    # --- editor ----------------------------------------------------------
    @expose("/new/", methods=["GET", "POST"])
    def create_view(self):
        return self._editor(None)

    @expose("/edit/", methods=["GET", "POST"])
    def edit_view(self):
        flow_id = request.args.get("id", type=int)
        if flow_id is None or db.session.get(Flow, flow_id) is None:
            flash(gettext("流程不存在"), "error")
            return redirect(url_for(".index_view"))
        return self._editor(flow_id)

    def _editor(self, flow_id: int | None):
        row = db.session.get(Flow, flow_id) if flow_id else None
        form = FlowSourceForm(request.form if request.method == "POST" else None,
                              source=row.source if row else NEW_FLOW_TEMPLATE)
        status = 200
        if request.method == "POST":
            if form.validate():
                saved = self.run(lambda: flows.save_flow_from_editor(form.source.data, by=self.actor,
                                                                           flow_id=flow_id))
                if saved:
                    flash(gettext("流程「{name}」已保存", name=saved.name), "success")
                    if "_continue_editing" in request.form:
                        return redirect(url_for(".edit_view", id=saved.id))
                    return redirect(url_for(".index_view"))
            status = 400
        flow, errors, warnings = flows.check_flow_text(form.source.data or "")
        preview = preview_context(flow.definition) if flow else None
        return self.render("admin/flow/editor.html", form=form, row=row, errors=errors, warnings=warnings,
                           preview=preview), status

    @expose("/validate/", methods=["POST"])
    def validate(self):
        """Live validation for the editor: errors (block saving), warnings (block deploying), the preview."""
        text = request.form.get("source", "")
        flow, errors, warnings = flows.check_flow_text(text)
        html = render_template("admin/flow/_preview.html", **preview_context(flow.definition)) if flow else ""
        return jsonify(ok=not errors, errors=[str(i) for i in errors], warnings=[str(i) for i in warnings],
                       preview=html)

    @expose("/preview/<int:id>")
    def preview(self, id):
        row = db.session.get(Flow, id)
        if row is None:
            flash(gettext("流程不存在"), "error")
            return redirect(url_for(".index_view"))
        flow, errors, warnings = flows.check_flow_text(row.source, row.source_path or row.key)
        return self.render("admin/flow/preview.html", row=row, errors=errors, warnings=warnings,
                           preview=preview_context(flow.definition) if flow else None)

    @expose("/graph/<int:id>.svg")
    def graph(self, id):
        row = db.session.get(Flow, id)
        flow = flows.check_flow_text(row.source)[0] if row else None
        if flow is None:
            return Response("flow not found or invalid", status=404)
        svg = render_template("admin/flow/_graph.html", graph=layout_definition(flow.definition))
        return Response(svg, mimetype="image/svg+xml")

    # --- import / export / deploy ---------------------------------------
    @expose("/import/", methods=["GET", "POST"])
    def import_view(self):
        form = FlowImportForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            upload = request.files.get("file")
            if upload and upload.filename:
                text, name = upload.read().decode("utf-8", errors="replace"), upload.filename
            else:
                text, name = form.text.data or "", "<import>"
            if not text.strip():
                flash(gettext("请选择文件或粘贴内容"), "error")
            else:
                result = self.run(lambda: flows.import_flow_file(text, name, by=self.actor))
                if result:
                    rows, notes = result
                    names = "」「".join(row.name for row in rows)
                    flash(gettext("已导入流程「{names}」，状态为关闭", names=names), "success")
                    if notes:       # a BlueKing export: what could not be carried over
                        flash(Markup("{}<ul>{}</ul>").format(gettext("蓝鲸流程导出中以下内容未能导入："),
                            Markup("").join(Markup("<li>{}</li>").format(n) for n in notes)), "warning")
                    return redirect(url_for(".index_view"))
            return self.render("admin/flow/import.html", form=form), 400
        return self.render("admin/flow/import.html", form=form)

    @expose("/export/<int:id>")
    def export(self, id):
        name, text, mimetype = flows.export_flow(id, request.args.get("format", "yaml"))
        return Response(text, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})

    @expose("/deploy/<int:id>", methods=["GET", "POST"])
    def deploy_view(self, id):
        row = db.session.get(Flow, id)
        if row is None:
            flash(gettext("流程不存在"), "error")
            return redirect(url_for(".index_view"))
        form = (DeployForm(request.form) if request.method == "POST"
                else DeployForm(version_name=row.name, **flows.deploy_form_answers(id)))
        if request.method == "POST" and form.validate():
            def deploy():
                policy = flows.notify_policy(
                    enabled=form.notify.data == "yes", channels=form.channels.data, frequency=form.frequency.data,
                    supervise=form.supervise.data == "yes", starter=form.supervise_starter.data,
                    supervisors=form.supervisors.data)
                return flows.deploy(id, by=self.actor, notify=policy, name=(form.version_name.data or "").strip())

            version = self.run(deploy)
            if version:
                flash(gettext("已部署：{name} v{number}。可在「流程版本」中查看，并在服务中关联该版本。", name=version.name,
                              number=version.version_number),
                      "success")
                return redirect(url_for(".index_view"))
            return self.render("admin/flow/deploy.html", form=form, row=row), 400
        return self.render("admin/flow/deploy.html", form=form, row=row)

    # --- status and delete -----------------------------------------------
    @action("enable", _lp("action", "启用"), _l("确认启用选中的流程？"))
    def action_enable(self, ids):
        count = self.run(lambda: flows.set_flow_status(self.action_ids(ids), "ENABLED", by=self.actor))
        if count:
            flash(gettext("已启用 {n} 个流程", n=count), "success")

    @action("close", _lp("action", "关闭"), _l("确认关闭选中的流程？"))
    def action_close(self, ids):
        count = self.run(lambda: flows.set_flow_status(self.action_ids(ids), "CLOSED", by=self.actor))
        if count:
            flash(gettext("已关闭 {n} 个流程", n=count), "success")

    def delete_model(self, model):
        return bool(self.run(lambda: flows.delete_flow(model.id, by=self.actor)))


def _version_services(view, context, model, name):
    services = flows.services_using(model.id)
    return "、".join(s.name for s in services) or "—"


def _version_ops(view, context, model, name):
    return Markup(f'<a class="btn btn-outline-primary btn-sm py-0" href="{url_for(".preview", id=model.id)}">{escape(gettext("预览"))}</a>')


class FlowVersionView(SecureModelView):
    can_create = False
    can_edit = False
    column_list = ["name", "flow_key", "version_number", "service_type", "created_at", "created_by", "services", "ops"]
    column_labels = {"name": _l("流程名称"), "flow_key": _l("流程标识"), "version_number": _l("版本号"), "service_type": _l("服务类型"),
                     "created_at": _l("部署时间"), "created_by": _l("部署人"), "services": _l("关联服务"), "ops": _l("操作")}
    column_searchable_list = ["name", "flow_key"]
    column_filters = ["flow_key", "service_type", "created_at"]
    column_sortable_list = ["name", "flow_key", "version_number", "created_at"]
    column_default_sort = [("flow_key", False), ("version_number", True)]
    column_formatters = {"services": _version_services, "ops": _version_ops, "created_at": format_dt,
                         "version_number": lambda v, c, m, n: f"v{m.version_number}",
                         "service_type": lambda v, c, m, n: gettext(SERVICE_TYPE_NAMES.get(m.service_type, m.service_type))}
    form_columns: list[str] = []

    @expose("/preview/<int:id>")
    def preview(self, id):
        version = db.session.get(FlowVersion, id)
        if version is None:
            flash(gettext("流程版本不存在"), "error")
            return redirect(url_for(".index_view"))
        return self.render("admin/flow/version_preview.html", version=version,
                           services=flows.services_using(id),
                           preview=preview_context(flows.version_definition(id)))

    @expose("/restore/<int:id>", methods=["POST"])
    def restore(self, id):
        row = self.run(lambda: flows.restore_version(id, by=self.actor))
        if row:
            flash(gettext("已将该版本还原到流程模板「{name}」", name=row.name), "success")
            return redirect(url_for("flow.edit_view", id=row.id))
        return redirect(url_for(".index_view"))

    def delete_model(self, model):
        return bool(self.run(lambda: flows.delete_version(model.id, by=self.actor)))
