"""The ticket page and its actions. Each POST calls one service and redirects back."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.engine.state import OPERATION_NAMES
from app.errors import OperationRefused
from app.forms import build_form, form_initial, form_values, submitted_values
from app.i18n import gettext
from app.infra.uow import unit_of_work
from app.services import alerts
from app.services.fields import choice_errors, field_context, hidden_keys, keep_uploads, safe_content_type
from app.services import sla
from app.services.people import general_roles
from app.services.tickets import (
    attachment_for,
    can_view,
    flow_of,
    get_ticket,
    operate_step,
    operate_ticket,
    ticket_page,
)

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

STEP_ACTIONS = ("claim", "distribute", "deliver", "terminate", "retry", "skip")
TICKET_ACTIONS = ("suspend", "unsuspend", "withdraw", "supervise", "terminate")


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def _viewable(ticket_id: int):
    ticket = get_ticket(ticket_id)
    if not can_view(ticket, current_user):
        abort(403, "你没有查看该单据的权限")
    return ticket


def _render(ticket, forms=None, status=200):
    page = ticket_page(ticket, current_user)
    forms = dict(forms or {})
    ctx = field_context()
    for shown in page.current:
        key = shown.step.node_key
        if "TRANSITION" in shown.operations and key not in forms:
            fields = page.flow.node(key).fields
            form_cls = build_form(fields, ctx, base=FlaskForm,
                                  hidden_keys=hidden_keys(page.flow, fields, {}, ticket.values),
                                  condition_values=ticket.values)
            # a reopened start step shows what the submitter typed; other steps start from their defaults,
            # so a second approval round does not come with the last round's decision pre-selected
            node = page.flow.node(key)
            defaults = form_initial([f for f in fields if f.type != "FILE"], ticket.values, ctx) \
                if node.kind == "start" else {}
            forms[key] = form_cls(data=defaults or None, prefix=key)
    for message in choice_errors():
        flash(message, "warning")
    node_names = {n.key: n.name for n in page.flow.definition.nodes}
    can_prioritize = bool(ticket.priority) and not ticket.is_over and (
        current_user.is_superuser or any(current_user.username in (s.step.users or []) for s in page.current))
    return render_template("ticket.html", page=page, forms=forms, roles=general_roles(),
                           OPERATION_NAMES=OPERATION_NAMES, alerts=alerts.ticket_alerts(ticket.id), sla_clocks=sla.ticket_clocks(ticket, node_names=node_names),
                           can_prioritize=can_prioritize, priorities=sla.priorities()), status


@bp.route("/<int:ticket_id>")
def detail(ticket_id: int):
    return _render(_viewable(ticket_id))


@bp.route("/<int:ticket_id>/print")
def print_view(ticket_id: int):
    """A clean printable page of the ticket's current information (打印)."""
    from app.timeutil import utcnow

    ticket = _viewable(ticket_id)
    return render_template("ticket_print.html", page=ticket_page(ticket, current_user), printed_at=utcnow())


@bp.route("/<int:ticket_id>/steps/<node_key>/transition", methods=["POST"])
def transition(ticket_id: int, node_key: str):
    ticket = _viewable(ticket_id)
    flow = flow_of(ticket)
    if not flow.has_node(node_key):
        abort(404)
    fields = flow.node(node_key).fields
    raw = submitted_values(fields, request.form, prefix=node_key)
    form_cls = build_form(fields, field_context(current_user), base=FlaskForm,
                          hidden_keys=hidden_keys(flow, fields, raw, ticket.values), condition_values=ticket.values)
    form = form_cls(prefix=node_key)
    if not form.validate_on_submit():
        flash(gettext("表单填写有误，请检查标红的字段"), "danger")
        with unit_of_work():        # files chosen before a validation error stay chosen
            keep_uploads(form, fields, current_user.username)
        return _render(ticket, {node_key: form}, status=400)
    with unit_of_work():
        operate_step(ticket.id, current_user, "TRANSITION", node_key,
                     values=form_values(form, fields, field_context(current_user)))
    flash(gettext("已提交"), "success")
    return redirect(url_for(".detail", ticket_id=ticket_id))


@bp.route("/<int:ticket_id>/steps/<node_key>/<action>", methods=["POST"])
def step_action(ticket_id: int, node_key: str, action: str):
    if action not in STEP_ACTIONS:
        abort(404)
    _viewable(ticket_id)
    processors_type, _, processors = (request.form.get("target") or "").partition(":")
    with unit_of_work():
        operate_step(ticket_id, current_user, action.upper(), node_key, processors_type=processors_type,
                     processors=processors, message=request.form.get("message", "").strip())
    if action == "retry":       # the scheduler runs it again: nothing has succeeded yet
        flash(gettext("已重新排队，系统稍后会自动重新执行这一步，结果见处理日志。"), "info")
    else:
        flash(gettext("{operation}成功", operation=gettext(OPERATION_NAMES[action.upper()])), "success")
    return redirect(url_for(".detail", ticket_id=ticket_id))


@bp.route("/<int:ticket_id>/actions/<action>", methods=["POST"])
def ticket_action(ticket_id: int, action: str):
    if action not in TICKET_ACTIONS:
        abort(404)
    ticket = get_ticket(ticket_id)
    if not can_view(ticket, current_user) and action != "supervise":
        abort(403, "你没有操作该单据的权限")
    with unit_of_work():
        operate_ticket(ticket.id, current_user, action.upper(), message=request.form.get("message", "").strip())
    flash(gettext("{operation}成功", operation=gettext(OPERATION_NAMES[action.upper()])), "success")
    return redirect(url_for(".detail", ticket_id=ticket_id))


@bp.route("/<int:ticket_id>/priority", methods=["POST"])
def set_priority(ticket_id: int):
    """A processor changes the priority (紧急程度 × 影响范围 gave the first one) with a reason."""
    _viewable(ticket_id)
    with unit_of_work():
        sla.change_priority(ticket_id, current_user, request.form.get("priority", ""), request.form.get("reason", ""))
    flash(gettext("优先级已调整"), "success")
    return redirect(url_for(".detail", ticket_id=ticket_id))


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    row, path = attachment_for(current_user, attachment_id)
    if not path.exists():
        raise OperationRefused("附件文件已丢失，请联系管理员")
    # the type comes from the extension's allow-list, not from the uploader (rows stored before kept theirs)
    response = send_file(path, mimetype=safe_content_type(row.original_name), as_attachment=True,
                         download_name=row.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
