"""Every back-office page in each language (issue 16): in English no Chinese outside user data, in Chinese no
leftover English.

The pages are found, not listed: the list, create, edit and details page of every registered model view (edit
and details on a real row) and the index of every custom view, plus the custom pages reached from them.
User data is what admins typed or the app stores: names, keys, descriptions, flow definitions, YAML sources,
log rows. It is cut out of the page's visible text before looking for words of the other language.
"""
from __future__ import annotations

import json
import re
from html import unescape
from pprint import pformat

import pytest
from flask import url_for
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from app.admin.flows import NEW_FLOW_TEMPLATE
from app.extensions import db
from app.services.flows import check_flow_text

CJK = re.compile(r"[\u4e00-\u9fff]")
# English words that are names, not sentences: products, protocols, formats, units, HTTP methods
ENGLISH_NAMES = {"ITSM", "BlueKing", "English", "CSV", "YAML", "JSON", "API", "ID", "IP", "URL", "HTTP", "HTTPS",
                 "SMTP", "SSL", "TLS", "GET", "POST", "PUT", "PATCH", "DELETE", "CMDB", "SLA", "HTML", "Webhook",
                 "Jinja", "WeCom", "CRM", "ERP", "OA", "VPN", "https", "http", "admin", "Alertmanager", "Token",
                 "Prometheus", "app_code", "app_secret", "bk_token", "UTC", "YYYY", "MM", "DD", "IAM", "STARTTLS",
                 "Grafana", "Authorization", "Bearer", "xxx",     # an HTTP header as the admin types it
                 "null", "true", "false"}                         # JSON literals (the audit log's before / after)
# the designer (another module's page, with its own catalogue) and endpoints that are not pages
SKIPPED = re.compile(r"/designer|\.svg$|/export/")


def _strings(value, keys: bool = False):
    """Every string inside a JSON-like value (and its keys, when the page shows them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if keys:
                yield str(k)
            yield from _strings(v, keys)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, keys)


USER_COLUMNS = {
    "Service": ("name", "desc", "key", "owner"), "Catalog": ("name", "key", "desc"),
    "User": ("display_name", "username", "email", "department"),
    "Role": ("name", "key", "desc"), "Flow": ("name", "key", "desc", "source", "updated_by"),
    "FlowVersion": ("name", "key", "source"), "ApiSystem": ("key", "name", "base_url", "desc"),
    "ApiDef": ("key", "name", "path", "request_template", "response_mapping", "desc"),
    "ApiCallLog": ("url", "request_body", "response_body", "error", "called_by"), "ApiApp": ("app_code", "name"),
    "AuditLog": ("actor", "object_id", "summary"), "Dictionary": ("name", "key", "desc"),
    "DictionaryItem": ("name", "key"), "Ticket": ("title", "sn", "creator"), "TicketLog": ("message",),
    "Notification": ("subject", "body", "receiver", "username", "title", "content"),
}
JSON_COLUMNS = {"FlowVersion": ("definition",), "AuditLog": ("before", "after"), "Ticket": ("values",)}
# the audit log shows each change as the JSON recorded, field names included


def _user_data(app) -> list[str]:
    """The stored texts admins and users wrote, longest first (so a name is cut before a word inside it)."""
    import app.models as models

    texts = set()
    with app.app_context():
        for model_name in set(USER_COLUMNS) | set(JSON_COLUMNS):
            model = getattr(models, model_name, None)
            if model is None:
                continue
            columns = [getattr(model, c) for c in USER_COLUMNS.get(model_name, ()) if hasattr(model, c)]
            if columns:
                for row in db.session.execute(select(*columns)):
                    texts.update(line.strip() for v in row if v for line in str(v).splitlines() if line.strip())
            for column in JSON_COLUMNS.get(model_name, ()):
                if hasattr(model, column):
                    for value in db.session.execute(select(getattr(model, column))).scalars():
                        texts.update(s for s in _strings(value or {}, keys=model_name == "AuditLog") if s)
        for source in list(db.session.execute(select(models.Flow.source)).scalars()) + [NEW_FLOW_TEMPLATE]:
            flow = check_flow_text(source)[0]          # as the previews show it, implied approval fields included
            if flow is not None:
                texts.update(s for s in _strings(flow.definition.model_dump()) if s)
    return sorted(texts, key=len, reverse=True)


def visible_text(html: str) -> str:
    """What a user reads: the text between tags, and the labels Flask-Admin keeps in JSON for its scripts
    (filter names and operations, action confirmations); no scripts, styles, SVG graphs, code samples or YAML/JSON editors."""
    shown = [_json_labels(name, json.loads(unescape(data)))
             for name, data in re.findall(r'<div id="([\w-]+)-data" class="d-none">(.*?)</div>', html, flags=re.S)]
    html = re.sub(r'<div id="[\w-]+-data" class="d-none">.*?</div>', " ", html, flags=re.S)
    html = re.sub(r"<(script|style|svg|textarea|pre|code)\b.*?</\1>", " ", html, flags=re.S)
    return "\n".join([unescape(re.sub(r"<[^>]+>", "\n", html))] + shown)


def _json_labels(name: str, data) -> str:
    """The words a user sees from one of Flask-Admin's JSON blocks."""
    if name == "filter-groups":
        labels = []
        for group, filters in data.items():
            labels.append(group)
            for flt in filters:
                labels.append(flt["operation"])
                labels += [label for _, label in flt.get("options") or ()]
        return "\n".join(labels)
    if name == "active-filters":        # the admin's own filter values
        return ""
    return "\n".join(_strings(data.values() if isinstance(data, dict) else data))    # action ids are not shown


def cut_user_data(text: str, data: list[str]) -> str:
    """The text with every stored value cut out (whole words only for Latin values: 'op' must not cut 'operation')."""
    for value in data:
        if CJK.search(value):
            text = text.replace(value, " ")
        else:
            text = re.sub(rf"(?<![\w]){re.escape(value)}(?![\w])", " ", text)
    return text


def admin_pages(app) -> list[str]:
    """The URL of every back-office page, found from the registered views (with a row for edit and details)."""
    views = app.extensions["admin"][0]._views
    urls = []
    with app.test_request_context():
        for view in views:
            if isinstance(view, ModelView):
                urls.append(url_for(f"{view.endpoint}.index_view"))
                if view.can_create:
                    urls.append(url_for(f"{view.endpoint}.create_view"))
                _, rows = view.get_list(0, None, None, None, [], page_size=1)
                if rows:
                    pk = view.get_pk_value(rows[0])
                    if view.can_edit:
                        urls.append(url_for(f"{view.endpoint}.edit_view", id=pk))
                    if view.can_view_details:
                        urls.append(url_for(f"{view.endpoint}.details_view", id=pk))
            else:
                urls.append(url_for(f"{view.endpoint}.index"))
        urls += _custom_pages()
    return [u for u in urls if not SKIPPED.search(u)]


def _custom_pages() -> list[str]:
    """Pages reached from a list's buttons rather than from the menu."""
    from app.models import ApiDef, Catalog, Flow, FlowVersion
    from app.services import notify

    first = lambda model: db.session.execute(select(model.id).order_by(model.id).limit(1)).scalar()  # noqa: E731
    flow, version, api, catalog = first(Flow), first(FlowVersion), first(ApiDef), first(Catalog)
    urls = ["/admin/flow/import/", f"/admin/flow/preview/{flow}", f"/admin/flow/deploy/{flow}", f"/admin/flowversion/preview/{version}",
            f"/admin/catalog/services/{catalog}", "/admin/alerts/file/"]
    if api:
        urls.append(f"/admin/apidef/test/{api}")
    urls += [f"/admin/notifysettings/template/{kind}/" for kind in list(dict(notify.KINDS))[:2] + [notify.LAYOUT]]
    return urls


@pytest.fixture
def admin_site(demo, browser):
    """The demo with a few rows in every table the back office lists, and its super admin logged in."""
    from app.infra.uow import commit
    from app.models import ApiCallLog, Service

    admin = browser("admin")
    with demo.app_context():
        service = db.session.execute(select(Service.id).filter_by(key="account_apply")).scalar()
        db.session.add(ApiCallLog(method="GET", url="http://cmdb.example/api/hosts", status_code=500, ok=False,
                                  error="timeout", duration_ms=1200, called_by="alice"))
        commit()
    submitted = browser("alice").post(f"/submit/{service}", data={
        "title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要",
        "approver": "leader"})
    assert submitted.status_code == 302
    admin.post("/admin/role/new/", {"name": "临时组", "key": "temp_team", "desc": "值班", "member_names": ["eng1"]})
    admin.post("/admin/apisystem/new/", {"key": "cmdb", "name": "配置平台", "base_url": "http://cmdb.example",
                                         "desc": ""})
    admin.get("/admin/")
    return admin, admin_pages(demo)


def leftover_chinese(admin, urls, data) -> dict:
    """url → the lines of the page that still hold Chinese once user data is cut out."""
    found = {}
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
        text = visible_text(response.get_data(as_text=True))
        text = cut_user_data(text, ["中文"] + [v for v in data if CJK.search(v)])  # "中文": the language switch
        lines = sorted({line.strip() for line in text.splitlines() if CJK.search(line)})
        if lines:
            found[url] = lines
    return found


def leftover_english(admin, urls, data) -> dict:
    """url → the English words left on the page once user data and names (API, YAML...) are cut out."""
    found = {}
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
        text = visible_text(response.get_data(as_text=True))
        text = cut_user_data(text, data)
        words = {w for w in re.findall(r"(?<![\w.@/-])[A-Za-z][A-Za-z]{2,}(?![\w.@/-])", text) if w not in ENGLISH_NAMES}
        if words:
            found[url] = sorted(words)
    return found


def test_every_admin_page_is_found(admin_site):
    _, urls = admin_site
    for expected in ("/admin/", "/admin/service/", "/admin/service/new/", "/admin/role/edit/?id=",
                     "/admin/auditlog/details/?id=", "/admin/apicalllog/", "/admin/settings/", "/admin/alerts/"):
        assert any(u.startswith(expected) for u in urls), expected
    assert len(urls) >= 40, urls


def test_english_admin_pages_have_no_chinese_outside_user_data(demo, admin_site):
    admin, urls = admin_site
    admin.post("/language", {"lang": "en"})
    found = leftover_chinese(admin, urls, _user_data(demo))
    if found:
        pytest.fail(pformat(found))


def test_chinese_admin_pages_have_no_leftover_english(demo, admin_site):
    admin, urls = admin_site
    found = leftover_english(admin, urls, _user_data(demo))
    if found:
        pytest.fail(pformat(found))


def test_the_check_catches_a_label_left_untranslated(demo, admin_site, monkeypatch):
    """The checks above can fail: a column label missing from the English catalogue is reported, and so is
    an English label on a Chinese page."""
    from app.i18n import EN

    admin, _ = admin_site
    monkeypatch.delitem(EN, "流程名称")
    admin.post("/language", {"lang": "en"})
    found = leftover_chinese(admin, ["/admin/flow/"], _user_data(demo))
    assert any("流程名称" in line for line in found.get("/admin/flow/", [])), found
    admin.post("/language", {"lang": "zh"})
    view = next(v for v in demo.extensions["admin"][0]._views if v.endpoint == "flow")
    monkeypatch.setattr(view, "_list_columns", [("name", "Flow name")] + view._list_columns[1:])
    found = leftover_english(admin, ["/admin/flow/"], _user_data(demo))
    assert "Flow" in found.get("/admin/flow/", []), found
