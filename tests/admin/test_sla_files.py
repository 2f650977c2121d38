"""服务级别 in the back office: the same sla_yaml files, checked before they are written."""
import html
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sla_dir(demo, tmp_path):
    for name in ("calendars.yaml", "agreements.yaml"):
        shutil.copy(ROOT / "sla_yaml" / name, tmp_path / name)
    old = demo.config["SLA_DIR"]
    demo.config["SLA_DIR"] = str(tmp_path)
    yield tmp_path
    demo.config["SLA_DIR"] = old


def test_the_shipped_files_validate_against_the_demo_data(browser, sla_dir):
    page = browser("admin").get("/admin/slafiles/").get_data(as_text=True)
    assert "incident_24x7" in page and "cn_workday" in page and 'id="sla-issues"' not in page


def test_a_broken_agreement_is_refused_with_its_line_and_the_file_is_unchanged(browser, sla_dir):
    before = (sla_dir / "agreements.yaml").read_text(encoding="utf-8")
    broken = before.replace("calendar: 24x7", "calendar: moon")
    page = html.unescape(browser("admin").post("/admin/slafiles/", data={"file": "agreements.yaml", "text": broken},
                                               follow_redirects=True).get_data(as_text=True))
    assert "文件有错误，未保存" in page and "agreements.yaml:13: agreements.0.calendar: unknown calendar 'moon'" in page
    assert (sla_dir / "agreements.yaml").read_text(encoding="utf-8") == before


def test_an_admin_adds_an_extra_holiday_and_the_same_file_is_written(browser, sla_dir):
    text = (sla_dir / "calendars.yaml").read_text(encoding="utf-8").replace(
        "extra_holidays: []", "extra_holidays: [2027-01-01]")
    response = browser("admin").post("/admin/slafiles/", data={"file": "calendars.yaml", "text": text})
    assert response.status_code == 302
    assert "extra_holidays: [2027-01-01]" in (sla_dir / "calendars.yaml").read_text(encoding="utf-8")


def test_only_super_admins_reach_the_page(browser, sla_dir):
    assert browser("alice").get("/admin/slafiles/").status_code in (302, 403)
