"""RICHTEXT sanitizing with nh3: an allow-list of formatting tags and safe URLs."""
from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import nh3
from flask import current_app, has_app_context, has_request_context, request

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
})

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "target"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
    "abbr": {"title"},
}

LINK_SCHEMES = ("http://", "https://", "mailto:")
IMAGE_SCHEMES = ("http://", "https://")


def _same_origin_path(value: str) -> bool:
    return value.startswith("/") and not value.startswith("//")


def _own_hosts() -> set[str]:
    """The host names this site answers on: the request's, SERVER_NAME's and BASE_URL's."""
    hosts = set()
    if has_request_context():
        hosts.add(request.host.lower())
    if has_app_context():
        hosts.add(str(current_app.config.get("SERVER_NAME") or "").lower())
        hosts.add(urlsplit(str(current_app.config.get("BASE_URL") or "")).netloc.lower())
    return hosts - {""}


def points_at_api(value: str) -> bool:
    """A URL that this site would route to its HTTP API (`/api/...`), however it is spelled.

    An <img> or a link there makes the reader's browser call the API (issue 13): dot segments,
    backslashes, percent-escapes and this site's own host name are all undone before looking.
    """
    text = unquote("".join(ch for ch in value if ch not in "\t\n\r").strip()).replace("\\", "/").lower()
    parts = urlsplit(text)
    if parts.scheme not in ("", "http", "https"):
        return False
    if parts.netloc and parts.netloc not in _own_hosts():
        return False
    path = urlsplit(urljoin("http://site/", parts.path or "/")).path
    return path == "/api" or path.startswith("/api/")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep only http/https/mailto links, http/https (or same-site) images, known targets; never the API."""
    lowered = value.strip().lower()
    if attribute in ("href", "src") and points_at_api(value):
        return None
    if tag == "a" and attribute == "href":
        ok = lowered.startswith(LINK_SCHEMES) or _same_origin_path(lowered) or lowered.startswith("#")
        return value if ok else None
    if tag == "img" and attribute == "src":
        return value if lowered.startswith(IMAGE_SCHEMES) or _same_origin_path(lowered) else None
    if tag == "a" and attribute == "target":
        return value if lowered in ("_blank", "_self") else None
    return value


def clean_html(text: str) -> str:
    """Sanitize RICHTEXT HTML: formatting, tables, safe links/images; no script, style or handlers."""
    if not text:
        return ""
    return nh3.clean(
        str(text),
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
