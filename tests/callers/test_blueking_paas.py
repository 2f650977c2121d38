"""blueking-paas plugin center, replayed against a live server (SQLite and PostgreSQL).

Its files (TencentBlueKing/blueking-paas, apiserver/paasng/):
- `paasng/bk_plugins/pluginscenter/itsm_adaptor/apigw/client.py`: bkapi-client-core's APIGatewayClient,
  operations at `/v2/itsm/<name>/` (the stage is the path before them: here our `/api/c/compapi`);
- `paasng/bk_plugins/pluginscenter/itsm_adaptor/client.py` (`ItsmClient`): credentials bk_app_code,
  bk_app_secret and the login cookie, **empty** (`login_cookie=""`) for the management command; the root
  catalog is the one with `key == "root"` and `level == 0`; 「插件开发者中心」 is created under it;
  import_service of `support-files/itsm/plugins_<name>.json` with `catalog_id` added, where **3900035** means
  "the service exists" and the id is then looked up with get_services by the service's label;
- `paasng/bk_plugins/pluginscenter/management/commands/import_itsm_service.py`: the bootstrap sequence;
- `paasng/bk_plugins/pluginscenter/itsm_adaptor/open_apis/authentication.py`: the ITSM callback is
  checked with token/verify, again with the empty login cookie.
The export is tests/fixtures/bk_exports/plugins_create_approval.json (origin in the README there).

paas's `ApprovalServiceName` labels are crossed (`create_approval` is labelled 「插件上线审批」 while its file is
named 「插件创建审批流程」), so its own by-label lookup after 3900035 finds nothing on any ITSM; the test
reads the id by the file's name, as an operator fixing the label would.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bkapi_client_core.apigateway import APIGatewayClient, Operation, OperationGroup, bind_property

from _bk_live import Live, Receiver, register_app, run_callbacks

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports" / "plugins_create_approval.json"
APP_CODE, SECRET = "bk_paas3", "paas-secret-for-tests"
CATALOG_NAME = "插件开发者中心"


class Group(OperationGroup):
    """The operations paas's client uses (same names, methods and paths as its apigw/client.py)."""

    get_service_catalogs = bind_property(Operation, name="get_service_catalogs", method="GET",
                                         path="/v2/itsm/get_service_catalogs/")
    create_service_catalog = bind_property(Operation, name="create_service_catalog", method="POST",
                                           path="/v2/itsm/create_service_catalog/")
    get_services = bind_property(Operation, name="get_services", method="GET", path="/v2/itsm/get_services/")
    import_service = bind_property(Operation, name="import_service", method="POST", path="/v2/itsm/import_service/")
    create_ticket = bind_property(Operation, name="create_ticket", method="POST", path="/v2/itsm/create_ticket/")
    get_ticket_status = bind_property(Operation, name="get_ticket_status", method="GET",
                                      path="/v2/itsm/get_ticket_status/")
    operate_ticket = bind_property(Operation, name="operate_ticket", method="POST", path="/v2/itsm/operate_ticket/")
    token_verify = bind_property(Operation, name="token_verify", method="POST", path="/v2/itsm/token/verify/")


class Client(APIGatewayClient):
    _api_name = "bk-itsm"
    api = bind_property(Group, name="api")


def paas_client(live: Live, login_cookie: str = ""):
    """`ItsmClient.__init__`: app credentials plus the login cookie under its name (`bk_token`)."""
    client = Client(endpoint=live.url, stage="api/c/compapi")
    client.update_bkapi_authorization(bk_app_code=APP_CODE, bk_app_secret=SECRET, bk_token=login_cookie)
    return client.api


@pytest.fixture
def live(demo):
    register_app(demo, APP_CODE, SECRET, act_for_users=True)
    server = Live(demo)
    yield server
    server.close()


def import_itsm_service(api) -> tuple[int, dict]:
    """`import_itsm_service` + `ItsmClient`: catalog, then import_service; returns (catalog id, the response)."""
    catalogs = api.get_service_catalogs(data={})
    assert catalogs["code"] == 0, catalogs
    root = next((d for d in catalogs["data"] if d["key"] == "root" and d["level"] == 0), None)
    assert root is not None, "the root catalog (key root, level 0) must exist"
    catalog_id = next((c["id"] for c in root["children"] if c["name"] == CATALOG_NAME), None)
    if catalog_id is None:
        resp = api.create_service_catalog(data={"parent__id": root["id"], "name": CATALOG_NAME, "project_key": "0",
                                                "desc": ""})
        assert resp["code"] == 0, resp
        catalog_id = resp["data"]["id"]
    service_data = json.loads(EXPORT.read_text(encoding="utf-8"))
    service_data["catalog_id"] = catalog_id
    return catalog_id, api.import_service(data=service_data)


def test_paas_bootstrap_imports_the_service_once_then_gets_3900035(live, demo):
    api = paas_client(live)
    catalog_id, first = import_itsm_service(api)
    assert first["code"] == 0 and first["result"] is True, first
    service_id = first["data"]["id"]

    again_catalog, again = import_itsm_service(api)             # the command run a second time
    assert again_catalog == catalog_id
    assert again["code"] == 3900035 and again["result"] is False, again
    services = api.get_services(data={"catalog_id": catalog_id})
    assert services["code"] == 0
    assert {d["name"]: d["id"] for d in services["data"]}["插件创建审批流程"] == service_id

    receiver = Receiver()
    try:
        fields = [{"key": k, "value": v} for k, v in {
            "title": "插件创建审批", "plugin_id": "bk-demo", "plugin_type": "tool", "plugin_name": "演示插件",
            "language": "python", "template": "default", "repository": "https://git.example/bk-demo",
            "creator": "alice", "extra_fields": "{}", "approver": "leader"}.items()]
        created = api.create_ticket(data={"service_id": service_id, "creator": "alice", "fields": fields,
                                          "meta": {"callback_url": f"{receiver.url}/open/api/itsm/callback/"}})
        assert created["code"] == 0, created
        sn = created["data"]["sn"]
        assert created["data"]["ticket_url"]
        status = api.get_ticket_status(data={"sn": sn})
        assert status["code"] == 0 and status["data"]["current_status"] == "RUNNING"

        withdrawn = api.operate_ticket(data={"sn": sn, "operator": "alice", "action_type": "WITHDRAW",
                                             "action_message": "applicant withdraw ticket"})
        assert withdrawn["code"] == 0 and withdrawn["result"] is True, withdrawn
        run_callbacks(demo)
        [callback] = receiver.received
        assert callback["sn"] == sn and callback["current_status"] == "REVOKED"
        # ItsmBasicAuthentication: token/verify with the empty login cookie
        verified = paas_client(live).token_verify(data={"token": callback["token"]})
        assert verified["code"] == 0 and verified["data"]["is_passed"] is True
        assert paas_client(live).token_verify(data={"token": "forged"})["data"]["is_passed"] is False
    finally:
        receiver.close()
