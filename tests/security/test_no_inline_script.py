"""The front office runs no inline script, so its policy leaves 'unsafe-inline' out of script-src."""
import re
from pathlib import Path

import pytest

from app.web.security_headers import content_security_policy

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
CSRF_BY_HAND = re.compile(r"""<input[^>]*name=["']csrf_token["']""", re.I)


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_an_inline_script_an_on_handler_or_a_hand_written_csrf_input(path):
    text = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "move the script into app/static/js"
    assert not HANDLER.search(text), "bind the handler in a static module (data-confirm, data-print, ...)"
    if path.name != "_macros.html":
        assert not CSRF_BY_HAND.search(text), "use csrf_field() from _macros.html"


def test_front_office_script_policy_is_self_only_and_the_back_office_keeps_flask_admins_handlers():
    front = [d.strip() for d in content_security_policy("/tickets/1").split(";")]
    admin = [d.strip() for d in content_security_policy("/admin/flow/").split(";")]
    assert "script-src 'self'" in front
    assert "script-src 'self' 'unsafe-inline'" in admin
    assert content_security_policy("/administrator") == content_security_policy("/")


def test_pages_are_served_with_the_policy_of_their_part(browser):
    alice, admin = browser("alice"), browser("admin")
    assert "script-src 'self';" in alice.get("/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in admin.get("/admin/").headers["Content-Security-Policy"].split("script-src")[1] \
        .split(";")[0]
