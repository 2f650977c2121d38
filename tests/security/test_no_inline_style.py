"""No page carries an inline style, so neither policy allows 'unsafe-inline' in style-src.

Notification e-mails (templates/notify) keep their inline styles: mail clients need them and no browser shows
them under the site's policy. Chromium's view of every page is tests/browser/test_no_csp_violations.py.
"""
import re
from pathlib import Path

import pytest

from app.web.security_headers import BACK_OFFICE_STYLE_ATTRIBUTES, content_security_policy, style_hash

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_STYLE = re.compile(r"""<style\b|\sstyle\s*=\s*["']|\bstyle\s*=\s*["'][^"']""", re.I)
PAGES = [p for p in sorted(TEMPLATES.rglob("*.html")) if p.relative_to(TEMPLATES).parts[0] != "notify"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_page_template_has_an_inline_style(path):
    assert not INLINE_STYLE.search(path.read_text(encoding="utf-8")), "use a class in app/static/itsm.css"


def style_src(path: str) -> str:
    return next(d for d in content_security_policy(path).split("; ") if d.startswith("style-src "))


def test_neither_policy_allows_inline_styles():
    front, admin = style_src("/tickets/1"), style_src("/admin/flow/")
    assert "'unsafe-inline'" not in front and "'unsafe-inline'" not in admin
    assert "'unsafe-hashes'" not in front                   # the front office allows no style= value at all
    assert style_hash("min-height: 90px") in admin and len(BACK_OFFICE_STYLE_ATTRIBUTES) == 4


def test_pages_are_served_with_it(browser):
    header = browser("alice").get("/").headers["Content-Security-Policy"]
    assert "style-src 'self' 'sha256-" in header and "unsafe-inline" not in header
