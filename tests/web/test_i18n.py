"""English is available for the whole front office: every Chinese UI string has a translation."""
import re
from pathlib import Path

from app.i18n.en import EN

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FRONT_OFFICE = ["base.html", "_macros.html", "_progress.html", "workbench.html", "ticket_list.html", "module.html",
                "ticket.html", "ticket_print.html", "submit_catalog.html", "submit_form.html", "error.html",
                "auth/login.html", "profile.html"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_quoted_chinese_string_in_front_office_templates_has_an_english_translation():
    missing = set()
    for name in FRONT_OFFICE:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        for block in re.findall(r"{[{%](.*?)[}%]}", text, flags=re.S):
            for literal in re.findall(r"'([^']*)'|\"([^\"]*)\"", block):
                value = literal[0] or literal[1]
                if CJK.search(value) and value not in EN:
                    missing.add((name, value))
    assert not missing, sorted(missing)


def test_no_bare_chinese_text_outside_translation_calls():
    bare = []
    for name in FRONT_OFFICE:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        stripped = re.sub(r"{[{%#].*?[}%#]}", "", text, flags=re.S)
        bare += [(name, line.strip()) for line in stripped.splitlines() if CJK.search(line)]
    assert not bare, bare
