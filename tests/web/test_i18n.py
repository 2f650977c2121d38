"""English is available for the whole front office: every Chinese UI string has a translation.

The front office is every template but the back office's (admin/) and the notice e-mails' (notify/):
a template added anywhere else is checked without being listed here.
"""
import re
from pathlib import Path

import pytest

from app.i18n.en import EN

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FRONT_OFFICE = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                      if p.relative_to(TEMPLATES).parts[0] not in ("admin", "notify"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_front_office_includes_the_knowledge_statistics_and_form_field_templates():
    assert {"forms/_fields.html", "knowledge/index.html", "knowledge/detail.html", "statistics/index.html",
            "workbench.html", "ticket.html"} <= set(FRONT_OFFICE)


@pytest.mark.parametrize("name", FRONT_OFFICE)
def test_every_quoted_chinese_string_in_front_office_templates_has_an_english_translation(name):
    missing = set()
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for block in re.findall(r"{[{%](.*?)[}%]}", text, flags=re.S):
        for literal in re.findall(r"'([^']*)'|\"([^\"]*)\"", block):
            value = literal[0] or literal[1]
            if CJK.search(value) and value not in EN:
                missing.add((name, value))
    assert not missing, sorted(missing)


@pytest.mark.parametrize("name", FRONT_OFFICE)
def test_no_bare_chinese_text_outside_translation_calls(name):
    bare = []
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    stripped = re.sub(r"{[{%#].*?[}%#]}", "", text, flags=re.S)
    bare += [(name, line.strip()) for line in stripped.splitlines() if CJK.search(line)]
    assert not bare, bare
