"""工作台 and the submit entry (catalog → service → form)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from markupsafe import Markup

from app.forms import build_form, form_values, submitted_values
from app.i18n import gettext as _
from app.infra.uow import unit_of_work
from app.services import catalog, sla, tickets
from app.services.fields import choice_errors, field_context, hidden_keys, keep_uploads, suggested_values
from app.services.tickets import ListFilters, create_ticket, get_ticket
from app.timeutil import parse_local

bp = Blueprint("workbench", __name__)
REMEMBERED_TAB = "ticket_list_tab"
MODULE_NAMES = {"request": "请求管理", "change": "变更管理", "event": "事件管理", "question": "问题管理"}


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


@bp.route("/")
def index():
    """工作台: my to-do, to-claim, my numbers, recent activity."""
    empty = ListFilters()
    return render_template("workbench.html",
                           todo=tickets.list_tickets(current_user, "todo", empty, 1, 8, count=False),
                           claim=tickets.list_tickets(current_user, "claim", empty, 1, 8, count=False),
                           mine=tickets.list_tickets(current_user, "mine", empty, 1, 5, count=False),
                           numbers=tickets.my_numbers(current_user.username),
                           activity=tickets.recent_activity(current_user.username),
                           breaching=sla.about_to_breach(current_user))


def _filters() -> ListFilters:
    args = request.args
    created_to = _date(args.get("to"))
    return ListFilters(service_type=args.get("type") or None, status=args.get("status") or None,
                       service_id=args.get("service", type=int), created_from=_date(args.get("from")),
                       created_to=created_to + timedelta(days=1) if created_to else None,
                       keyword=args.get("q", "").strip(), sort=args.get("sort", "-created"),
                       source=args.get("source") if args.get("source") in tickets.SOURCES else None)


def _date(text: str | None):
    if not text:
        return None
    try:
        return parse_local(text)
    except ValueError:
        flash(_("日期格式应为 YYYY-MM-DD：{value}", value=text), "warning")
        return None


def _list_page(template: str, *, tab: str, service_type: str | None = None, **extra):
    filters = _filters()
    if service_type:
        filters.service_type = service_type
    rows = tickets.list_tickets(current_user, tab, filters, request.args.get("page", 1, type=int),
                              current_app.config["PAGE_SIZE"])
    return render_template(template, rows=rows, tab=tab, filters=filters, services=tickets.services_for_filter(),
                           args={k: v for k, v in request.args.items() if k != "page"}, **extra)


@bp.route("/tickets")
def ticket_list():
    """全局视图: every ticket I am involved in, across the four types, with filters."""
    chosen = request.args.get("tab")
    if chosen not in tickets.TABS:
        chosen = None
    page = _list_page("ticket_list.html", tab=chosen or tickets.default_tab(current_user, session.get(REMEMBERED_TAB)))
    if chosen:
        session[REMEMBERED_TAB] = chosen      # the tab the view opens on next time (a refused tab raised above)
    return page


@bp.route("/modules/<service_type>")
def module(service_type: str):
    """请求/变更/事件/问题管理: one service type with its submit entry and tabs."""
    if service_type not in catalog.SERVICE_TYPE_NAMES:
        abort(404)
    tab = request.args.get("tab", "todo")
    tab = tab if tab in ("all", "todo", "claim", "mine", "history") else "todo"
    return _list_page("module.html", tab=tab, service_type=service_type, module_type=service_type,
                      module_services=catalog.submittable_services(service_type=service_type, shown_to=current_user))


@bp.route("/submit")
def submit_catalog():
    catalog_id = request.args.get("catalog", type=int)
    service_type = request.args.get("type") or None
    services = catalog.submittable_services(catalog_id=catalog_id, service_type=service_type, shown_to=current_user)
    related = request.args.get("related", type=int)
    return render_template("submit_catalog.html", tree=catalog.catalog_tree(), services=services,
                           catalog_id=catalog_id, related=related, related_ticket=_related_ticket(related),
                           service_type=service_type)


def _related_ticket(related: int | None):
    """The ticket a new one will be linked to (新建关联单), which the user must be able to see."""
    if not related:
        return None
    source = get_ticket(related)
    if not tickets.can_view(source, current_user):
        abort(403)
    return source


def _with_suggestions(suggested: dict) -> CombinedMultiDict:
    """The posted form, where a suggested field left out entirely takes its suggestion (as the API does)."""
    missing = MultiDict()
    for key, value in suggested.items():
        if key not in request.form:
            for item in value if isinstance(value, list) else [value]:
                missing.add(key, item)
    return CombinedMultiDict([request.files, request.form, missing])


@bp.route("/submit/<int:service_id>", methods=["GET", "POST"])
def submit_form(service_id: int):
    service, flow = catalog.service_for_submit(service_id, current_user)
    fields = flow.start.fields
    related = request.values.get("related", type=int)
    related_ticket = _related_ticket(related)
    hidden = hidden_keys(flow, fields, submitted_values(fields, request.form) if request.method == "POST" else {}, {})
    suggested = suggested_values(fields, current_user.username)      # e.g. the approver: my leader, changeable
    posted = {"formdata": _with_suggestions(suggested)} if request.method == "POST" and suggested else {}
    form = build_form(fields, field_context(current_user), base=FlaskForm, hidden_keys=hidden)(
        data=suggested, **posted)
    for message in choice_errors():
        flash(message, "warning")
    if form.validate_on_submit():
        with unit_of_work():
            ticket = create_ticket(service_id=service.id, creator=current_user,
                                   values=form_values(form, fields, field_context(current_user)),
                                   catalog_id=request.form.get("catalog_id", type=int), related_to=related)
            sn, ticket_id = ticket.sn, ticket.id
        flash(Markup(_("提单成功，单号 {sn}。") + ' <a href="{url}" id="submitted-list">{label}</a>').format(
            sn=sn, url=url_for("workbench.module", service_type=service.service_type, tab="mine"),
            label=_("返回{module}列表", module=_(MODULE_NAMES.get(service.service_type, "全局视图")))), "success")
        return redirect(url_for("tickets.detail", ticket_id=ticket_id))
    status = 400 if request.method == "POST" else 200
    if request.method == "POST":
        with unit_of_work():        # files chosen before a validation error stay chosen
            keep_uploads(form, fields, current_user.username)
    return render_template("submit_form.html", service=service, flow=flow, form=form, fields=fields,
                           related=related, related_ticket=related_ticket, catalog_id=request.args.get("catalog", type=int)), status
