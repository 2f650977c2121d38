"""知识库: browse and search articles, write and edit them, versions, links with tickets."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.errors import ItsmError
from app.i18n import gettext
from app.infra.uow import unit_of_work
from app.services import knowledge, tickets
from app.services.knowledge import search_articles

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")


class ArticleForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=200)])
    category_id = SelectField("分类", coerce=int, default=0)
    tags = StringField("标签", validators=[Length(max=500)], description="用逗号分隔，例如：打印机,网络")
    body = TextAreaField("正文（Markdown）", validators=[DataRequired("请填写正文")])
    note = StringField("修改说明", validators=[Optional(), Length(max=200)])
    base_version = HiddenField()
    source_ticket_id = HiddenField()


class CategoryForm(FlaskForm):
    name = StringField("分类名称", validators=[DataRequired("请填写分类名称"), Length(max=64)])
    parent_id = SelectField("上级分类", coerce=int, default=0)


class LinkForm(FlaskForm):
    ticket_id = IntegerField(validators=[DataRequired()])


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def _category_choices(tree, empty: str):
    return [(0, empty)] + [(c.id, "　" * depth + c.name) for c, depth in tree]


@bp.app_template_global()
def knowledge_panel(ticket) -> dict:
    """What the ticket page's knowledge card shows: attached articles, and whether an article can be written."""
    return {"links": knowledge.articles_for_ticket(ticket.id), "can_write": knowledge.can_write_from(ticket)}


@bp.route("/")
def index():
    tree = knowledge.category_tree()
    q = request.args.get("q", "").strip()
    category = request.args.get("category", type=int)
    tag = request.args.get("tag") or None
    page = max(request.args.get("page", 1, type=int), 1)
    attach_to = request.args.get("ticket", type=int)
    category_ids = knowledge.descendant_ids(category, tree) if category else None
    result = rows = None
    if q:
        result = search_articles(q, category_ids=category_ids, limit=20, offset=(page - 1) * 20)
    else:
        rows = tickets.paginate(knowledge.list_articles(category_ids=category_ids, tag=tag), page, 20)
    return render_template("knowledge/index.html", tree=tree, q=q, category=category, tag=tag, page=page,
                           result=result, rows=rows, tags=knowledge.popular_tags(), attach_to=attach_to,
                           categories={c.id: c for c, _ in tree}, is_admin=knowledge.is_knowledge_admin(current_user))


@bp.route("/new", methods=["GET", "POST"])
def new():
    tree = knowledge.category_tree()
    form = ArticleForm()
    form.category_id.choices = _category_choices(tree, gettext("未分类"))
    source = request.args.get("from_ticket", type=int)
    if request.method == "GET" and source:
        draft = knowledge.draft_from_ticket(current_user, source)
        form.title.data, form.body.data, form.tags.data = draft["title"], draft["body"], draft["tags"]
        form.source_ticket_id.data = str(source)
    if form.validate_on_submit():
        with unit_of_work():
            article = knowledge.save_article(current_user, title=form.title.data, body=form.body.data,
                                      category_id=form.category_id.data, tags=form.tags.data,
                                      note=form.note.data or "创建",
                                      source_ticket_id=int(form.source_ticket_id.data or 0) or None)
            article_id = article.id
        flash(gettext("文章已发布"), "success")
        return redirect(url_for(".detail", article_id=article_id))
    return render_template("knowledge/edit.html", form=form, article=None), 400 if request.method == "POST" else 200


@bp.route("/<int:article_id>")
def detail(article_id: int):
    article = knowledge.get_article(article_id)
    helped, ticket_total = knowledge.tickets_helped(article, current_user)
    return render_template("knowledge/detail.html", article=article, html=knowledge.render_markdown(article.body),
                           tickets=helped, ticket_total=ticket_total, can_edit=knowledge.can_edit(article, current_user),
                           attach_to=request.args.get("ticket", type=int))


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
def edit(article_id: int):
    article = knowledge.get_article(article_id)
    if not knowledge.can_edit(article, current_user):
        abort(403, "只有作者和知识库管理员可以修改这篇文章")
    form = ArticleForm(obj=None if request.method == "POST" else article)
    form.category_id.choices = _category_choices(knowledge.category_tree(), gettext("未分类"))
    if request.method == "GET":
        form.category_id.data = article.category_id or 0
        form.base_version.data = str(article.version)
        form.note.data = ""
    if form.validate_on_submit():
        try:
            with unit_of_work():
                knowledge.save_article(current_user, article_id=article_id, title=form.title.data, body=form.body.data,
                                category_id=form.category_id.data, tags=form.tags.data, note=form.note.data or "",
                                base_version=int(form.base_version.data or 0) or None)
        except ItsmError as exc:      # keep what was typed: a conflict must not throw the edit away
            flash(gettext(exc.message), "danger")
            return render_template("knowledge/edit.html", form=form, article=article), exc.http_status
        flash(gettext("已保存为新版本"), "success")
        return redirect(url_for(".detail", article_id=article_id))
    return render_template("knowledge/edit.html", form=form, article=article), 400 if request.method == "POST" else 200


@bp.route("/<int:article_id>/delete", methods=["POST"])
def delete(article_id: int):
    with unit_of_work():
        knowledge.delete_article(current_user, article_id)
    flash(gettext("文章已删除"), "success")
    return redirect(url_for(".index"))


@bp.route("/preview", methods=["POST"])
def preview():
    """The editor's preview: the same Markdown rendering and sanitizing as the article page."""
    return str(knowledge.render_markdown(request.form.get("body", "")))


@bp.route("/<int:article_id>/versions")
def versions(article_id: int):
    article = knowledge.get_article(article_id)
    return render_template("knowledge/versions.html", article=article, versions=knowledge.versions_of(article_id),
                           can_edit=knowledge.can_edit(article, current_user))


@bp.route("/<int:article_id>/versions/<int:number>")
def version(article_id: int, number: int):
    article = knowledge.get_article(article_id)
    old = knowledge.get_version(article_id, number)
    return render_template("knowledge/version.html", article=article, version=old, html=knowledge.render_markdown(old.body),
                           diff=knowledge.diff_lines(old, article), can_edit=knowledge.can_edit(article, current_user))


@bp.route("/<int:article_id>/versions/<int:number>/restore", methods=["POST"])
def restore(article_id: int, number: int):
    with unit_of_work():
        article = knowledge.restore_version(current_user, article_id, number)
        new_number = article.version
    flash(gettext("已将第 {number} 版恢复为第 {new_number} 版", number=number, new_number=new_number), "success")
    return redirect(url_for(".detail", article_id=article_id))


@bp.route("/<int:article_id>/tickets", methods=["POST"])
def link(article_id: int):
    form = LinkForm()
    if not form.validate_on_submit():
        abort(400, "缺少单据")
    with unit_of_work():
        knowledge.link_ticket(current_user, article_id, form.ticket_id.data)
    flash(gettext("已关联知识文章"), "success")
    return redirect(url_for("tickets.detail", ticket_id=form.ticket_id.data) + "#knowledge")


@bp.route("/<int:article_id>/tickets/<int:ticket_id>/remove", methods=["POST"])
def unlink(article_id: int, ticket_id: int):
    with unit_of_work():
        knowledge.unlink_ticket(current_user, article_id, ticket_id)
    flash(gettext("已取消关联"), "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id) + "#knowledge")


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    if not knowledge.is_knowledge_admin(current_user):
        abort(403, "只有知识库管理员可以管理分类")
    tree = knowledge.category_tree()
    form = CategoryForm()
    form.parent_id.choices = _category_choices(tree, gettext("（顶级分类）"))
    if form.validate_on_submit():
        with unit_of_work():
            knowledge.create_category(current_user, form.name.data, form.parent_id.data or None)
        flash(gettext("分类已添加"), "success")
        return redirect(url_for(".categories"))
    return render_template("knowledge/categories.html", tree=tree, form=form)
