"""blueking-dbm, replayed against a live server (SQLite and PostgreSQL).

Its files (TencentBlueKing/blueking-dbm, dbm-ui/backend/):
- `dbm_init/services.py` (`Services.auto_create_itsm_service`): get_service_catalogs → the first catalog is
  the root; create_service_catalog `bk_dbm` under it; get_services of that catalog; import_service of
  `dbm_init/json_files/itsm/itsm_dbm.json` (a BlueKing service export, `key: "request"`) with `project_key`,
  `catalog_id` and `name: "BK_DBM"`, or update_service with `id` when the service exists (a second bootstrap);
- `components/itsm/client.py` + `components/base.py`: GET sends query parameters, POST a JSON body; the
  credentials go in `X-Bkapi-Authorization` with `bk_username` (use_admin → the admin);
- `ticket/builders/__init__.py` (`ItsmParamBuilder.get_params`): create_ticket with fields title, bk_biz_id,
  approver, summary, `dynamic_fields`, `meta.callback_url`, an empty `meta.state_processors`, `callback_info`;
- `ticket/flow_manager/itsm.py` (`ItsmFlow`): ticket_approval_result `{"sn": [sn]}` → `[0]` current_status,
  approve_result, update_at, ticket_url; get_ticket_logs `{"sn": [sn]}` → `logs[2].message` as the summary
  (IndexError/KeyError fall back to a status text);
- `ticket/handler.py` (`approve_itsm_ticket`): get_ticket_info → `current_steps[0].state_id`; TERMINATE with
  operate_ticket `{sn, action_type, operator, action_message}`.
The file itself is tests/fixtures/bk_exports/itsm_dbm.json (origin in the README there).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from _bk_live import Live, Receiver, envelope, register_app, run_callbacks

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports" / "itsm_dbm.json"
APP_CODE, SECRET = "bk_dbm", "dbm-secret-for-tests"


class ItsmApi:
    """dbm's `_ItsmApi` over `BaseApi`: method per endpoint, admin credentials in the header."""

    GETS = {"get_ticket_logs", "get_service_catalogs", "get_services"}

    def __init__(self, base: str):
        self.base = f"{base}/api/c/compapi/v2/itsm"

    def __call__(self, name: str, params: dict) -> dict:
        params = dict(params)
        auth = {"bk_app_code": APP_CODE, "bk_app_secret": SECRET, "bk_username": "admin"}
        headers = {"X-Bkapi-Authorization": json.dumps(auth)}
        url = f"{self.base}/{name}/"
        if name in self.GETS:
            response = requests.get(url, params=params, headers=headers, timeout=10)
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            response = requests.post(url, data=json.dumps(params), headers=headers, timeout=10)
        body = envelope(response)
        assert body["result"] is True and body["code"] == 0, body
        return body["data"]


@pytest.fixture
def itsm(demo):
    register_app(demo, APP_CODE, SECRET, act_for_users=True)
    live = Live(demo)
    yield ItsmApi(live.url)
    live.close()


def auto_create_itsm_service(api: ItsmApi) -> int:
    """`Services.auto_create_itsm_service`, line by line."""
    project_key, dbm_catalog_name, dbm_service_name = "bk_dbm", "bk_dbm", "BK_DBM"
    dbm_service_json = json.loads(EXPORT.read_text(encoding="utf-8"))
    catalogs_data = api("get_service_catalogs", {"project_key": project_key})[0]
    root_id = catalogs_data["id"]
    children_catalogs_map = {data["name"]: data["id"] for data in catalogs_data["children"]}
    dbm_catalog_id = children_catalogs_map.get(dbm_catalog_name)
    if dbm_catalog_name not in children_catalogs_map.keys():
        dbm_catalog_data = api("create_service_catalog",
                               {"project_key": project_key, "parent__id": root_id, "name": dbm_catalog_name})
        dbm_catalog_id = dbm_catalog_data["id"]
    services_data = api("get_services", {"project_key": project_key, "catalog_id": dbm_catalog_id})
    children_services_map = {data["name"]: data["id"] for data in services_data}
    dbm_service_json["project_key"] = project_key
    dbm_service_json["catalog_id"] = dbm_catalog_id
    dbm_service_json["name"] = dbm_service_name
    if dbm_service_name not in children_services_map.keys():
        return api("import_service", dbm_service_json)["id"]
    dbm_service_id = children_services_map[dbm_service_name]
    dbm_service_json["id"] = dbm_service_id
    api("update_service", dbm_service_json)
    return dbm_service_id


def summary_of(api: ItsmApi, sn: str) -> str:
    logs = api("get_ticket_logs", {"sn": [sn]})
    try:
        return logs["logs"][2]["message"]
    except (IndexError, KeyError):
        return "审批中"


def test_dbm_bootstrap_ticket_summary_and_terminate(itsm, demo):
    service_id = auto_create_itsm_service(itsm)
    assert auto_create_itsm_service(itsm) == service_id                  # a second bootstrap updates it
    catalogs = itsm("get_service_catalogs", {"project_key": "bk_dbm"})
    assert catalogs[0]["key"] == "root" and [c["name"] for c in catalogs[0]["children"]].count("bk_dbm") == 1

    receiver = Receiver()
    try:
        params = {
            "service_id": str(service_id),           # dbm stores it as a system setting string
            "creator": "alice",
            "fields": [{"key": "title", "value": "MySQL 单节点部署"}, {"key": "bk_biz_id", "value": 3},
                       {"key": "approver", "value": "leader,cm"},
                       {"key": "summary", "value": "alice提交了MySQL 单节点部署的单据，请查看详情后进行审批"}],
            "dynamic_fields": [{"name": "单据链接", "type": "LINK", "value": "http://dbm.example/ticket?id=1"},
                               {"name": "业务名", "type": "STRING", "value": "blueking(#3, bk)"}],
            "meta": {"callback_url": f"{receiver.url}/apis/tickets/1/callback/", "state_processors": {}},
            "callback_info": {"pre_callback_module": "backend.ticket.builders.mysql",
                              "pre_callback_class": "MysqlSingleApplyFlowParamBuilder"},
        }
        sn = itsm("create_ticket", params)["sn"]
        result = itsm("ticket_approval_result", {"sn": [sn]})[0]
        assert result["current_status"] == "RUNNING" and result["ticket_url"]
        assert {"update_at", "approve_result"} <= set(result)
        info = itsm("get_ticket_info", {"sn": sn})
        assert info["bk_biz_id"] == 3                                           # from the bk_biz_id field
        assert isinstance(summary_of(itsm, sn), str)
        state_id = info["current_steps"][0]["state_id"]
        assert info["current_steps"][0]["name"] == "审批"
        assert set(info["current_steps"][0]["processors"].split(",")) == {"leader", "cm"}
        assert isinstance(state_id, int)

        itsm("operate_ticket", {"sn": sn, "action_type": "TERMINATE", "operator": "admin",
                                "action_message": "admin 终止了此单据"})
        result = itsm("ticket_approval_result", {"sn": [sn]})[0]
        assert result["current_status"] == "TERMINATED"
        assert summary_of(itsm, sn)                                             # logs[2] exists now
        assert not itsm("get_ticket_info", {"sn": sn})["current_steps"]         # dbm: nothing left to approve
        run_callbacks(demo)
        assert [r["sn"] for r in receiver.received] == [sn]
        assert receiver.received[0]["current_status"] == "TERMINATED"
    finally:
        receiver.close()
