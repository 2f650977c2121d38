"""Knowledge base use cases: articles with versions, categories, permissions, links to tickets.

Everyone reads; an author edits their own articles; knowledge admins (super admins and
members of the GENERAL role `knowledge_admins`) edit all and manage categories.
Every save writes an `ArticleVersion`; restoring an old one saves it again as a new version.
"""
from __future__ import annotations

import difflib
import html
import time
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from markupsafe import Markup
from sqlalchemy import delete, func, insert, select

from app.errors import NotFound, OperationRefused, PermissionDenied, ValidationFailed
from app.extensions import db
from app.forms import sanitize
from app.infra.trees import depth_first
from app.models import (
    Article,
    ArticleTag,
    ArticleTicket,
    ArticleVersion,
    KnowledgeCategory,
    Role,
    RoleMember,
    Service,
    Ticket,
    User,
)
from app.services.tickets import queries
from app.services.tickets.reading import can_view, get_ticket
from app.timeutil import utcnow

KNOWLEDGE_ADMINS = "knowledge_admins"
MAX_TAGS = 10

# --- Markdown ---------------------------------------------------------------------------

MARKDOWN_EXTENSIONS = ["extra", "toc", "sane_lists", "fenced_code", "tables"]
_ATTRIBUTES = {**{k: set(v) for k, v in sanitize.ALLOWED_ATTRIBUTES.items()},
               **{h: {"id"} for h in ("h1", "h2", "h3", "h4", "h5", "h6")}, "code": {"class"}, "div": {"class"}}
from app.services.people.users import ensure_role


def _slug(value: str, separator: str) -> str:
    """Heading ids get a prefix, so an article cannot clobber the page's own element ids."""
    return "kb-" + slugify_unicode(value, separator)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":    # only fenced-code languages and the [TOC] box
        ok = (tag == "code" and value.startswith("language-")) or (tag == "div" and value == "toc")
        return value if ok else None
    return sanitize._filter_attribute(tag, attribute, value)   # the RICHTEXT rules: http(s)/mailto/same-site only


def render_markdown(text: str) -> Markup:
    """Markdown → HTML → nh3 with the RICHTEXT allow-list: no script, handlers, javascript:/data: links."""
    raw = markdown.markdown(text or "", extensions=MARKDOWN_EXTENSIONS, output_format="html",
                            extension_configs={"toc": {"slugify": _slug}})
    return Markup(nh3.clean(raw, tags=set(sanitize.ALLOWED_TAGS), clean_content_tags={"script", "style"},
                            attributes=_ATTRIBUTES, attribute_filter=_filter_attribute,
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                            strip_comments=True))


def plain_text(rendered: str) -> str:
    """The words of rendered HTML without markup (what search indexes and snippets show)."""
    stripped = nh3.clean(str(rendered).replace("</p>", "</p>\n").replace("<br>", "\n"), tags=set())
    return " ".join(html.unescape(stripped).split())


def normalize_tags(raw: str | list[str]) -> list[str]:
    parts = raw if isinstance(raw, list) else raw.replace("，", ",").replace(";", ",").split(",")
    tags: list[str] = []
    for part in parts:
        tag = " ".join(part.split())
        if tag and tag not in tags:
            tags.append(tag)
    return tags


# --- permissions -------------------------------------------------------------------------

def knowledge_admin_role() -> Role:
    """The GENERAL role whose members edit every article (created on first use)."""

    return ensure_role(KNOWLEDGE_ADMINS, "知识库管理员", desc="可编辑所有知识文章、管理知识分类")


def is_knowledge_admin(user: User) -> bool:
    if user.is_superuser:
        return True
    return db.session.execute(select(RoleMember.username).join(Role).where(
        Role.key == KNOWLEDGE_ADMINS, RoleMember.username == user.username)).first() is not None


def can_edit(article: Article, user: User) -> bool:
    return article.author == user.username or is_knowledge_admin(user)


def _require_edit(article: Article, user: User) -> None:
    if not can_edit(article, user):
        raise PermissionDenied("只有作者和知识库管理员可以修改这篇文章")


# --- categories --------------------------------------------------------------------------

def category_tree() -> list[tuple[KnowledgeCategory, int]]:
    """Every category with its depth, parents before children (one query)."""
    return depth_first(db.session.execute(
        select(KnowledgeCategory).order_by(KnowledgeCategory.order, KnowledgeCategory.id)).scalars())


def descendant_ids(category_id: int, tree: list[tuple[KnowledgeCategory, int]] | None = None) -> list[int]:
    """The category and everything under it (the category filter includes subcategories)."""
    tree = category_tree() if tree is None else tree
    parents = {c.id: c.parent_id for c, _ in tree}
    found = [cid for cid in parents if _is_under(cid, category_id, parents)]
    if not found:
        raise NotFound("知识分类不存在")
    return found


def _is_under(cid: int | None, root: int, parents: dict) -> bool:
    seen = set()
    while cid is not None and cid not in seen:
        if cid == root:
            return True
        seen.add(cid)
        cid = parents.get(cid)
    return False


def create_category(user: User, name: str, parent_id: int | None = None) -> KnowledgeCategory:
    if not is_knowledge_admin(user):
        raise PermissionDenied("只有知识库管理员可以管理分类")
    name = " ".join((name or "").split())
    if not name or len(name) > 64:
        raise ValidationFailed("分类名称必填，最多 64 个字", errors={"name": "必填，最多 64 个字"})
    if parent_id and db.session.get(KnowledgeCategory, parent_id) is None:
        raise NotFound("上级分类不存在")
    category = KnowledgeCategory(name=name, parent_id=parent_id or None)
    db.session.add(category)
    db.session.flush()
    return category


# --- articles -----------------------------------------------------------------------------

def get_article(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None:
        raise NotFound("知识文章不存在或已删除")
    return article


def list_articles(*, category_ids: list[int] | None = None, tag: str | None = None, author: str | None = None):
    """Newest first; filters by category (with subcategories), tag, author."""
    stmt = select(Article)
    if category_ids is not None:
        stmt = stmt.where(Article.category_id.in_(category_ids))
    if tag:
        stmt = stmt.join(ArticleTag, ArticleTag.article_id == Article.id).where(ArticleTag.tag == tag)
    if author:
        stmt = stmt.where(Article.author == author)
    return stmt.order_by(Article.updated_at.desc(), Article.id.desc())


POPULAR_TAGS_SECONDS = 60
_popular: dict[tuple[str, int], tuple[float, list]] = {}


def popular_tags(limit: int = 20) -> list[tuple[str, int]]:
    """The most used tags with their counts, for the knowledge page's tag cloud.

    Counting them is a GROUP BY over every tag row (about 90 ms at 100,000 articles), so a process
    keeps the answer for POPULAR_TAGS_SECONDS; saving or deleting an article here forgets it.
    """
    key = (str(db.engine.url), limit)
    cached = _popular.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    tags = [tuple(r) for r in db.session.execute(
        select(ArticleTag.tag, func.count()).group_by(ArticleTag.tag)
        .order_by(func.count().desc(), ArticleTag.tag).limit(limit))]
    _popular[key] = (time.monotonic() + POPULAR_TAGS_SECONDS, tags)
    return tags


def _validated(title: str, body: str, category_id: int | None, tags) -> tuple[str, str, int | None, list[str]]:
    errors = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 200:
        errors["title"] = "标题最多 200 个字"
    if not (body or "").strip():
        errors["body"] = "请填写正文"
    tag_list = normalize_tags(tags or "")
    if len(tag_list) > MAX_TAGS or any(len(t) > 64 for t in tag_list):
        errors["tags"] = f"最多 {MAX_TAGS} 个标签，每个最多 64 个字"
    if category_id and db.session.get(KnowledgeCategory, category_id) is None:
        errors["category_id"] = "分类不存在"
    if errors:
        raise ValidationFailed("；".join(errors.values()), errors=errors)
    return title, body.replace("\r\n", "\n"), category_id or None, tag_list


def save_article(user: User, *, title: str, body: str, category_id: int | None = None, tags="",
                 article_id: int | None = None, base_version: int | None = None, note: str = "",
                 source_ticket_id: int | None = None) -> Article:
    """Create (no `article_id`) or update an article, and record the result as a new version.

    `base_version` is the version the editor started from: saving over someone else's newer
    save is refused instead of silently losing it.
    """
    title, body, category_id, tag_list = _validated(title, body, category_id, tags)
    now = utcnow()
    if article_id is None:
        if source_ticket_id:
            _finished_source(source_ticket_id, user)
        article = Article(author=user.username, created_at=now, version=1, source_ticket_id=source_ticket_id or None)
        db.session.add(article)
    else:
        article = get_article(article_id)
        _require_edit(article, user)
        if base_version is not None and base_version != article.version:
            raise OperationRefused(f"文章已被 {article.updated_by} 更新为第 {article.version} 版，请刷新后重新修改")
        article.version += 1
    article.title, article.body, article.category_id = title, body, category_id
    article.tags = ",".join(tag_list)
    article.plain = plain_text(render_markdown(body))
    article.updated_at, article.updated_by = now, user.username
    db.session.flush()
    db.session.add(ArticleVersion(article_id=article.id, number=article.version, title=title, body=body,
                                  tags=article.tags, category_id=category_id, note=note[:200],
                                  created_by=user.username, created_at=now))
    db.session.execute(delete(ArticleTag).where(ArticleTag.article_id == article.id))
    _popular.clear()
    if tag_list:
        db.session.execute(insert(ArticleTag), [{"article_id": article.id, "tag": t} for t in tag_list])
    if article_id is None and source_ticket_id:
        db.session.add(ArticleTicket(article_id=article.id, ticket_id=source_ticket_id, created_by=user.username))
    db.session.flush()
    return article


def delete_article(user: User, article_id: int) -> None:
    article = get_article(article_id)
    _require_edit(article, user)
    db.session.delete(article)
    db.session.flush()
    _popular.clear()


# --- versions -----------------------------------------------------------------------------

def versions_of(article_id: int) -> list[ArticleVersion]:
    return list(db.session.execute(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                                   .order_by(ArticleVersion.number.desc())).scalars())


def get_version(article_id: int, number: int) -> ArticleVersion:
    version = db.session.execute(select(ArticleVersion).where(
        ArticleVersion.article_id == article_id, ArticleVersion.number == number)).scalar_one_or_none()
    if version is None:
        raise NotFound(f"第 {number} 版不存在")
    return version


def restore_version(user: User, article_id: int, number: int) -> Article:
    """Save version `number` again as the newest version (history is never rewritten)."""
    old = get_version(article_id, number)
    article = get_article(article_id)
    return save_article(user, article_id=article_id, title=old.title, body=old.body, category_id=old.category_id,
                        tags=old.tags, base_version=article.version, note=f"恢复自第 {number} 版")


@dataclass
class DiffLine:
    kind: str      # "add", "del", "same", "hunk"
    text: str


def diff_lines(old: ArticleVersion | Article, new: ArticleVersion | Article) -> list[DiffLine]:
    """A unified diff of title and body, as lines for the template to escape and colour."""
    a = [f"# {old.title}", ""] + old.body.splitlines()
    b = [f"# {new.title}", ""] + new.body.splitlines()
    out = []
    for line in list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]:
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        out.append(DiffLine(kind, line if kind == "hunk" else line[1:]))
    return out


# --- tickets --------------------------------------------------------------------------------

def _viewable_ticket(ticket_id: int, user: User) -> Ticket:
    ticket = get_ticket(ticket_id)
    if not can_view(ticket, user):
        raise PermissionDenied("你没有查看该单据的权限")
    return ticket


def link_ticket(user: User, article_id: int, ticket_id: int) -> ArticleTicket:
    """Attach an article to a ticket it helped with (anyone who can see the ticket; idempotent)."""
    get_article(article_id)
    _viewable_ticket(ticket_id, user)
    link = db.session.execute(select(ArticleTicket).where(
        ArticleTicket.article_id == article_id, ArticleTicket.ticket_id == ticket_id)).scalar_one_or_none()
    if link is None:
        link = ArticleTicket(article_id=article_id, ticket_id=ticket_id, created_by=user.username)
        db.session.add(link)
        db.session.flush()
    return link


def unlink_ticket(user: User, article_id: int, ticket_id: int) -> None:
    _viewable_ticket(ticket_id, user)
    db.session.execute(delete(ArticleTicket).where(ArticleTicket.article_id == article_id,
                                                   ArticleTicket.ticket_id == ticket_id))


def tickets_helped(article: Article, user: User) -> tuple[list[Ticket], int]:
    """(the linked tickets this user may see, how many are linked in all)."""
    stmt = queries.tickets_involving(user.username, everything=bool(user.is_superuser)) \
        .join(ArticleTicket, ArticleTicket.ticket_id == Ticket.id).where(ArticleTicket.article_id == article.id)
    visible = list(db.session.execute(stmt.limit(50)).scalars())
    total = db.session.execute(select(func.count()).where(ArticleTicket.article_id == article.id)).scalar_one()
    return visible, total


def articles_for_ticket(ticket_id: int) -> list[tuple[Article, ArticleTicket]]:
    return [tuple(r) for r in db.session.execute(
        select(Article, ArticleTicket).join(ArticleTicket, ArticleTicket.article_id == Article.id)
        .where(ArticleTicket.ticket_id == ticket_id).order_by(ArticleTicket.id))]


# which ticket values make an article, per service type: (heading, field key)
FROM_TICKET = {
    "event": [("故障现象", "description"), ("故障原因", "cause"), ("解决方案", "solution")],
    "question": [("问题描述", "description"), ("根本原因", "root_cause"), ("修复方案", "fix_plan"),
                 ("临时规避措施", "workaround"), ("关闭说明", "close_note")],
}


def can_write_from(ticket: Ticket) -> bool:
    return ticket.status == "FINISHED" and ticket.service_type in FROM_TICKET


def _finished_source(ticket_id: int, user: User) -> Ticket:
    ticket = _viewable_ticket(ticket_id, user)
    if not can_write_from(ticket):
        raise OperationRefused("只有已结束的故障单和问题单可以生成知识文章")
    return ticket


def draft_from_ticket(user: User, ticket_id: int) -> dict:
    """Title, Markdown body and tags for a new article, taken from a finished incident or problem."""
    ticket = _finished_source(ticket_id, user)
    values = ticket.values or {}
    parts = [f"> 来源单据：[{ticket.sn}](/tickets/{ticket.id}) {ticket.title}", ""]
    for heading, key in FROM_TICKET[ticket.service_type]:
        value = values.get(key)
        if value not in (None, "", [], {}):
            parts += [f"## {heading}", "", str(value).strip(), ""]
    service_name = db.session.execute(select(Service.name).where(Service.id == ticket.service_id)).scalar()
    tags = [t for t in ("故障" if ticket.service_type == "event" else "问题", service_name) if t]
    return {"title": ticket.title, "body": "\n".join(parts).strip() + "\n", "tags": ",".join(tags),
            "source_ticket_id": ticket.id}
