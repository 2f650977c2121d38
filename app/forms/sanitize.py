"""RICHTEXT sanitizing with nh3: an allow-list of formatting tags and safe URLs."""
from __future__ import annotations

import nh3

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


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep only http/https/mailto links, http/https (or same-site) images, known targets."""
    lowered = value.strip().lower()
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
