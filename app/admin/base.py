"""The one secure base for every back-office view: super admins only, CSRF on forms, audit on changes."""
from __future__ import annotations

from flask import abort, flash, g, request
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_admin.model import typefmt
from flask_login import current_user
from flask_wtf.csrf import _FlaskFormCSRF

from app.errors import ItsmError
from app.extensions import db
from app.i18n import gettext, lazy_gettext as _l
from app.infra.uow import commit, framework_commits, outside_transaction
from app.services import system
from app.timeutil import fmt


class AdminForm(SecureForm):
    """SecureForm whose token is the app's Flask-WTF one, so the global CSRFProtect and the form agree."""

    class Meta:
        csrf = True
        csrf_class = _FlaskFormCSRF
        csrf_field_name = "csrf_token"
        csrf_secret = None          # Flask-WTF falls back to WTF_CSRF_SECRET_KEY / SECRET_KEY
        csrf_time_limit = None


def is_super_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.is_superuser)


class _SecureMixin:
    def is_accessible(self) -> bool:
        return is_super_admin()

    def inaccessible_callback(self, name, **kwargs):
        abort(403)

    @property
    def actor(self) -> str:
        return current_user.username

    def run(self, operation):
        """Run one service call as a unit of work: commit on success, a domain error becomes a flash (None)."""
        try:
            result = operation()
            commit()
            return result if result is not None else True
        except ItsmError as exc:
            db.session.rollback()
            flash(gettext(exc.message), "error")
            return None

    def run_outside_transaction(self, prepare, call, record):
        """Read, call the network with no transaction open, record in a new one; a domain error becomes a flash."""
        try:
            return outside_transaction(prepare, call, record)
        except ItsmError as exc:
            flash(gettext(exc.message), "error")
            return None


def named_choices(names: dict) -> list:
    """(code, name) choices whose names follow the page's language (statuses, types, kinds)."""
    return [(code, _l(name)) for code, name in names.items()]


def format_dt(view, context, model, name):
    return fmt(getattr(model, name)) or ""


class SecureModelView(_SecureMixin, ModelView):
    """Super admins only; CSRF on every form and action; domain errors shown as flashes; every change audited."""

    form_base_class = AdminForm
    page_size = 20
    can_set_page_size = True
    action_disallowed_list: list[str] = []
    audit_model: str | None = None           # the name written to the audit log (default: the model class)
    details_modal = False
    column_type_formatters = dict(ModelView.column_type_formatters)
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS,
                                     bool: lambda view, value, name: gettext("是") if value else gettext("否")}

    def __init__(self, model, session_owner, **kwargs):
        super().__init__(model, session_owner, **kwargs)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, ItsmError):
            flash(gettext(exc.message), "error")
            return True
        return super().handle_view_exception(exc)

    # --- audit ------------------------------------------------------------
    def audit_extra(self, model) -> dict:
        """Related data worth recording (e.g. role members); override per view."""
        return {}

    def _snapshot(self, model) -> dict:
        return system.snapshot(model, self.audit_extra(model))

    # Flask-Admin commits a create, edit or delete itself: that commit is this admin request's unit of work
    def create_model(self, form):
        with framework_commits():
            return super().create_model(form)

    def update_model(self, form, model):
        g.admin_audit_before = self._snapshot(model)
        with framework_commits():
            return super().update_model(form, model)

    def delete_model(self, model):
        with framework_commits():
            return super().delete_model(model)

    def on_model_change(self, form, model, is_created):
        self.check_change(form, model, is_created)
        db.session.flush()
        system.record(self.actor, "create" if is_created else "update", self.audit_model or type(model).__name__,
                           _pk(model), before=None if is_created else g.pop("admin_audit_before", None),
                           after=self._snapshot(model), summary=str(getattr(model, "name", "") or ""))

    def on_model_delete(self, model):
        self.check_delete(model)
        system.record(self.actor, "delete", self.audit_model or type(model).__name__, _pk(model),
                           before=self._snapshot(model), summary=str(getattr(model, "name", "") or ""))

    def check_change(self, form, model, is_created) -> None:
        """Business checks before a save (call services; raise ItsmError to refuse)."""

    def check_delete(self, model) -> None:
        """Guards before a delete (call services; raise ItsmError to refuse)."""

    @action("delete", _l("删除"), _l("确认删除选中的记录？删除后不能恢复。"))
    def action_delete(self, ids):
        """Delete the checked rows one by one, each through `delete_model` (guards and audit apply)."""
        count = 0
        for pk in self.action_ids(ids):
            model = self.get_one(str(pk))      # validated as an int; get_one decodes a string
            if model is not None and self.delete_model(model):
                count += 1
        if count:
            flash(gettext("已删除 {n} 条记录", n=count), "success")

    # --- helpers ---------------------------------------------------------
    @staticmethod
    def action_ids(ids) -> list[int]:
        """Action ids arrive as strings; PostgreSQL refuses to compare them with integers."""
        return [int(i) for i in ids]


def _pk(model):
    from sqlalchemy import inspect

    identity = inspect(model).identity
    return ":".join(map(str, identity)) if identity else ""


class SecureView(_SecureMixin, BaseView):
    """A custom back-office page (not a model list); POSTs are CSRF-checked by the app's CSRFProtect."""

    extra_css: list[str] = []


class SecureIndexView(_SecureMixin, AdminIndexView):
    """The back office's home: a map of the modules."""

    @expose("/")
    def index(self):
        from app.services.stats import overview

        return self.render("admin/itsm_index.html", stats=overview(), action_name=system.action_name,
                           object_name=system.object_name)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"
