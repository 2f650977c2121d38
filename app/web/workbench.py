"""工作台 and the submit entry (catalog → service → form)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.forms import build_form, form_values
from app.services import catalog as catalog_svc
from app.services import queries
from app.services.database import unit_of_work
from app.services.fields import field_context, hidden_keys
from app.services.tickets import create_ticket, get_ticket

bp = Blueprint("workbench", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


@bp.route("/")
def index():
    me = current_user.username
    todo = queries.paginate(queries.steps_waiting_for(me, queries.TODO_STATUSES), 1, 10, scalars=False)
    claim = queries.paginate(queries.steps_waiting_for(me, queries.CLAIM_STATUSES), 1, 10, scalars=False)
    mine = queries.paginate(queries.tickets_created_by(me), 1, 10)
    return render_template("workbench.html", todo=todo, claim=claim, mine=mine)


@bp.route("/tickets")
def ticket_list():
    page = request.args.get("page", 1, type=int)
    kind = request.args.get("tab", "involved")
    me = current_user.username
    if kind == "todo":
        rows = queries.paginate(queries.steps_waiting_for(me, queries.TODO_STATUSES), page, 20, scalars=False)
    elif kind == "claim":
        rows = queries.paginate(queries.steps_waiting_for(me, queries.CLAIM_STATUSES), page, 20, scalars=False)
    elif kind == "mine":
        rows = queries.paginate(queries.tickets_created_by(me), page, 20)
    elif kind == "all" and current_user.is_superuser:
        rows = queries.paginate(queries.tickets_involving(me, everything=True), page, 20)
    else:
        kind = "involved"
        rows = queries.paginate(queries.tickets_involving(me), page, 20)
    return render_template("ticket_list.html", rows=rows, tab=kind)


@bp.route("/submit")
def submit_catalog():
    catalog_id = request.args.get("catalog", type=int)
    services = catalog_svc.submittable_services(catalog_id=catalog_id) if catalog_id else \
        catalog_svc.submittable_services()
    return render_template("submit_catalog.html", tree=catalog_svc.catalog_tree(), services=services,
                           catalog_id=catalog_id, related=request.args.get("related", type=int))


@bp.route("/submit/<int:service_id>", methods=["GET", "POST"])
def submit_form(service_id: int):
    service, flow = catalog_svc.service_for_submit(service_id)
    fields = flow.start.fields
    related = request.values.get("related", type=int)
    if related:
        source = get_ticket(related)
        from app.services.tickets import can_view

        if not can_view(source, current_user):
            abort(403)
    hidden = hidden_keys(flow, fields, request.form.to_dict() if request.method == "POST" else {}, {})
    form = build_form(fields, field_context(), base=FlaskForm, hidden_keys=hidden)()
    if form.validate_on_submit():
        with unit_of_work():
            ticket = create_ticket(service_id=service.id, creator=current_user,
                                   values=form_values(form, fields, field_context()),
                                   catalog_id=request.form.get("catalog_id", type=int), related_to=related)
            sn, ticket_id = ticket.sn, ticket.id
        flash(f"提单成功，单号 {sn}", "success")
        return redirect(url_for("tickets.detail", ticket_id=ticket_id))
    status = 400 if request.method == "POST" else 200
    return render_template("submit_form.html", service=service, flow=flow, form=form, fields=fields,
                           related=related, catalog_id=request.args.get("catalog", type=int)), status
