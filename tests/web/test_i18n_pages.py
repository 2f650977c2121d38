"""The rendered front office in each language (issue 17.13): in English no Chinese outside user data, in
Chinese no leftover English.

User data is what people typed or designed and the app stores: flow definitions (node, field, choice and
transition names), services, catalogs, dictionaries, users' names, tickets, their logs, knowledge articles.
Everything else on the page is the app's own text and must be in the page's language.
"""
import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.infra.uow import commit
from app.models import Catalog, FlowVersion, Service, Ticket, TicketLog, User
from app.models.dictionary import Dictionary, DictionaryItem
from app.models.knowledge import Article, KnowledgeCategory
from app.services.knowledge import create_category, save_article

CJK = re.compile(r"[\u4e00-\u9fff]")
ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要", "approver": "leader"}
# English words that are names, not sentences: products, formats, codes, units
ENGLISH_NAMES = {"ITSM", "BlueKing", "English", "CSV", "Markdown", "YYYY", "MM", "DD", "Top", "P50", "P90", "CRM",
                 "ERP", "OA", "GitLab", "VPN", "API", "ID", "IP", "admin", "https"}


def _strings(value):
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _user_data(app) -> list[str]:
    with app.app_context():
        texts = set()
        for model, columns in ((Service, ("name", "desc")), (Catalog, ("name",)), (User, ("display_name", "username")),
                               (Ticket, ("title", "sn", "creator")), (TicketLog, ("message",)),
                               (Dictionary, ("name",)), (DictionaryItem, ("name",)), (KnowledgeCategory, ("name",)),
                               (Article, ("title", "body", "tags"))):
            for row in db.session.execute(select(*(getattr(model, c) for c in columns))):
                texts.update(str(v) for v in row if v)
        for definition in db.session.execute(select(FlowVersion.definition)).scalars():
            texts.update(_strings(definition))
        for title, body in db.session.execute(select(Article.title, Article.body)):
            texts.update(re.findall(r"[\u4e00-\u9fff]+", title + body))     # rendered Markdown, highlighted words
        for values in db.session.execute(select(Ticket.values)).scalars():
            texts.update(_strings(values or {}))
        for sla in db.session.execute(select(Ticket.sla)).scalars():       # agreement names: the admin's sla_yaml
            texts.update(_strings(sla or {}))
    return sorted(texts, key=len, reverse=True)


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<svg\b.*?</svg>", " ", html, flags=re.S)          # the flow graph: node and route names
    html = re.sub(r"<(option)\b[^>]*>(.*?)</option>", r" \2 ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def pages(demo, browser, itsm):
    """Every front-office page with data on it, as the admin (who may open them all)."""
    admin = browser("admin")
    ticket_id = itsm.submit(admin, "account_apply", ACCOUNT)
    admin.get("/")                               # shows (and clears) the flash of the submit, made in Chinese
    with demo.app_context():
        user = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        category = create_category(user, "网络")
        article = save_article(user, title="打印机 脱机处理", body="# 步骤\n\n重启 打印机 即可", category_id=category.id,
                               tags="打印机")
        commit()
        article_id = article.id
    service_id = itsm.service_id("account_apply")
    urls = ["/", "/tickets", "/tickets?tab=all", "/tickets?tab=history", "/modules/request", "/modules/change?tab=all",
            "/modules/event", "/modules/question", "/submit", f"/submit/{service_id}", f"/tickets/{ticket_id}",
            f"/tickets/{ticket_id}/print", "/knowledge/", "/knowledge/?q=打印机", f"/knowledge/{article_id}",
            f"/knowledge/{article_id}/versions", f"/knowledge/{article_id}/versions/1", "/knowledge/new",
            "/knowledge/categories", "/statistics/", "/profile", "/no-such-page"]
    return admin, urls


def test_english_pages_have_no_chinese_outside_user_data(demo, pages):
    admin, urls = pages
    admin.post("/language", data={"lang": "en"})
    data = _user_data(demo)
    leftovers = {}
    for url in urls:
        text = _visible_text(admin.get(url).get_data(as_text=True))
        for value in ["中文"] + data:           # the language menu names each language in its own words
            if CJK.search(value):
                text = text.replace(value, " ")
        found = sorted({line.strip() for line in text.splitlines() if CJK.search(line)})
        if found:
            leftovers[url] = found
    assert not leftovers, leftovers


def test_chinese_pages_have_no_leftover_english(demo, pages):
    admin, urls = pages
    data = _user_data(demo)
    leftovers = {}
    for url in urls:
        text = _visible_text(admin.get(url).get_data(as_text=True))
        for value in data:
            text = text.replace(value, " ")
        words = {w for w in re.findall(r"\b[A-Za-z][A-Za-z]{2,}\b", text) if w not in ENGLISH_NAMES}
        if words:
            leftovers[url] = sorted(words)
    assert not leftovers, leftovers
