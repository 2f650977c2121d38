"""服务管理: services and the catalog tree."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.form import Select2Widget
from markupsafe import Markup, escape
from wtforms import SelectField, SelectMultipleField

from app.extensions import db
from app.i18n import gettext, lazy_gettext as _l
from app.models import Catalog, FlowVersion
from app.services import catalog, system
from app.services.catalog import DISPLAY_TYPES, SERVICE_TYPE_NAMES

from .base import SecureModelView, format_dt, named_choices
from .people_fields import PeopleField


def _service_catalogs(view, context, model, name):
    return "、".join(link.catalog.name for link in model.links) or "—"


def _service_version(view, context, model, name):
    v = model.flow_version
    if v is None:
        return Markup('<span class="text-muted">{}</span>').format(gettext("未关联"))
    url = url_for("flowversion.preview", id=v.id)
    return Markup(f'<a href="{url}">{escape(v.label)}</a>')


class ServiceView(SecureModelView):
    column_list = ["name", "key", "service_type", "flow_version", "catalogs", "owners", "is_valid", "updated_at",
                   "updated_by"]
    column_labels = {"name": _l("服务名称"), "key": _l("服务标识"), "service_type": _l("服务类型"), "flow_version": _l("关联流程版本"),
                     "catalogs": _l("所属目录"), "owners": _l("服务负责人"), "is_valid": _l("启用"), "updated_at": _l("更新时间"),
                     "updated_by": _l("更新人"), "desc": _l("服务描述"), "catalog_ids": _l("关联目录"),
                     "flow_version.flow_key": _l("流程"), "display_type": _l("可见范围"), "display_role": _l("可见角色")}
    column_searchable_list = ["name", "key", "desc", "owners"]
    column_filters = ["service_type", "is_valid", "updated_at", "flow_version.flow_key", "display_type"]
    column_sortable_list = ["name", "key", "service_type", "is_valid", "updated_at"]
    column_default_sort = ("id", False)
    column_formatters = {"catalogs": _service_catalogs, "flow_version": _service_version, "updated_at": format_dt,
                         "service_type": lambda v, c, m, n: gettext(SERVICE_TYPE_NAMES.get(m.service_type, m.service_type))}
    column_choices = {"service_type": named_choices(SERVICE_TYPE_NAMES), "display_type": named_choices(DISPLAY_TYPES)}
    form_columns = ["name", "key", "service_type", "flow_version", "desc", "owners", "is_valid", "display_type",
                    "display_role", "catalog_ids"]
    form_overrides = {"service_type": SelectField, "display_type": SelectField, "owners": PeopleField}
    form_extra_fields = {"catalog_ids": SelectMultipleField(_l("关联目录"), widget=Select2Widget(multiple=True),
                                                            coerce=str, choices=[])}
    form_args = {
        "flow_version": {"label": _l("关联流程版本"), "get_label": "label",
                         "query_factory": lambda: db.session.query(FlowVersion)
                         .order_by(FlowVersion.flow_key, FlowVersion.version_number.desc())},
        "service_type": {"label": _l("服务类型"), "choices": []},
        "display_type": {"label": _l("可见范围"), "choices": named_choices(DISPLAY_TYPES),
                         "description": _l("第三方系统（API）：由其他系统通过 get_services 按可见角色查找")},
        "display_role": {"label": _l("可见角色"), "description": _l("如 BK_IAM、LOG_SEARCH、BK_FTA，多个用逗号分隔")},
        "owners": {"label": _l("服务负责人"), "joined": True, "description": _l("输入用户名或姓名搜索，可选多人")},
        "key": {"label": _l("服务标识"), "description": _l("英文字母、数字或下划线，提单链接和 API 用它识别服务")},
    }

    def _fill_choices(self, form):
        form.service_type.choices = system.service_type_choices()
        form.catalog_ids.choices = catalog.catalog_choices()
        return form

    def create_form(self, obj=None):
        return self._fill_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fill_choices(super().edit_form(obj))

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        form.catalog_ids.data = [str(link.catalog_id) for link in model.links]

    def audit_extra(self, model):
        return {"catalogs": sorted(link.catalog.name for link in model.links if link.catalog is not None)}

    def check_change(self, form, model, is_created):
        system.check_service(model)
        model.display_role = catalog.display_roles(model.display_role)
        model.updated_by = self.actor
        db.session.flush()
        catalog.set_service_catalogs(model, form.catalog_ids.data or [])

    def check_delete(self, model):
        catalog.check_service_deletable(model)


def _catalog_parent_query():
    return db.session.query(Catalog).order_by(Catalog.level, Catalog.order, Catalog.id)


class CatalogView(SecureModelView):
    """The catalog tree (a custom list page), with per-catalog service membership and ordering."""

    column_list = ["name", "key", "parent", "desc", "order"]
    column_labels = {"name": _l("目录名称"), "key": _l("目录标识"), "parent": _l("上级目录"), "desc": _l("描述"), "order": _l("排序")}
    column_searchable_list = ["name", "key"]
    column_filters = ["level"]
    form_columns = ["name", "key", "parent", "desc"]
    form_args = {"parent": {"label": _l("上级目录"), "get_label": "name", "query_factory": _catalog_parent_query},
                 "key": {"label": _l("目录标识"), "description": _l("英文字母、数字或下划线")}}

    @expose("/")
    def index_view(self):
        return self.render("admin/catalog/tree.html", rows=catalog.catalog_rows())

    def create_form(self, obj=None):
        form = super().create_form(obj)
        parent_id = request.args.get("parent", type=int)
        if parent_id and request.method == "GET":
            form.parent.data = db.session.get(Catalog, parent_id)
        return form

    def check_change(self, form, model, is_created):
        catalog.check_catalog_parent(model, model.parent)
        catalog.fix_catalog_levels(model)
        if is_created:
            siblings = [c for c in (model.parent.children if model.parent else
                                    db.session.query(Catalog).filter(Catalog.parent_id.is_(None)).all()) if c is not model]
            model.order = max((c.order for c in siblings), default=-1) + 1

    def check_delete(self, model):
        catalog.check_catalog_deletable(model)

    def audit_extra(self, model):
        return {"services": [link.service.name for link in model.links if link.service is not None]}

    @expose("/move/<int:id>/<direction>", methods=["POST"])
    def move(self, id, direction):
        self.run(lambda: catalog.move_catalog(id, 1 if direction == "down" else -1, by=self.actor))
        return redirect(url_for(".index_view"))

    @expose("/services/<int:id>", methods=["GET", "POST"])
    def services(self, id):
        row = db.session.get(Catalog, id)
        if row is None:
            flash(gettext("服务目录不存在"), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            op = request.form.get("op")
            if op == "add":
                ids = request.form.getlist("service_ids")
                if self.run(lambda: catalog.add_services_to_catalog(id, ids, by=self.actor)):
                    flash(gettext("已添加到目录"), "success")
            elif op == "remove":
                sid = request.form.get("service_id", type=int)
                if self.run(lambda: catalog.remove_service_from_catalog(id, sid, by=self.actor)):
                    flash(gettext("已从目录移除该服务（服务本身不受影响）"), "success")
            elif op in ("up", "down"):
                sid = request.form.get("service_id", type=int)
                self.run(lambda: catalog.move_service_in_catalog(id, sid, 1 if op == "down" else -1,
                                                                        by=self.actor))
            return redirect(url_for(".services", id=id))
        return self.render("admin/catalog/services.html", catalog=row, links=list(row.links),
                           others=catalog.services_not_in(id))
