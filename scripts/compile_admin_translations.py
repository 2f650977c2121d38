"""Compile the back office's own Flask-Admin catalogue (app/admin/translations/*/LC_MESSAGES/admin.po → .mo).

Run after editing a .po file; tests/admin/test_admin_wording.py checks that each .mo matches its .po.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "app" / "admin" / "translations"


def main() -> None:
    for po in sorted(ROOT.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)
        print(f"compiled {po.relative_to(ROOT.parent.parent.parent)}")


if __name__ == "__main__":
    main()
