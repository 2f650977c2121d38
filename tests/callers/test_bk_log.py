"""bk-log (日志平台) 采集接入审批, replayed from its source against a live server.

TencentBlueKing/bk-monitor:
- `bklog/apps/log_databus/handlers/itsm.py` (ItsmHandler): `get_log_itsm_service_id` takes
  `get_services(display_role=LOG_SEARCH, display_type=API)[0]`; `create_ticket` as `bk_username=admin` with
  `creator`/`operator` = the applicant, every apply parameter as a field, `meta.callback_url`;
  `collect_itsm_status` reads `ticket_url` and `iframe_ticket_url` (get_ticket_status) and every field
  (get_ticket_info); `update_collect_itsm_status`: finished when `current_status != "RUNNING"`, approved when
  the field `approval_result` == "true"; `verify_token` (token/verify → is_passed);
  `clean_failed_ticket_callback`: callback_failed_ticket → ticket_approval_result.
- `bklog/apps/api/modules/bk_itsm.py`: get_services is a GET; create_ticket, get_ticket_status,
  get_ticket_info, token/verify, ticket_approval_result and callback_failed_ticket are POSTs with a JSON body.
- `bklog/apps/api/modules/utils.py` (add_esb_info_before_request): adds appenv, bk_username, operator, uin.
- `bklog/apps/api/base.py` (DataAPI._send): `X-Bkapi-Authorization` from the bk_* parameters, `bklog_request_id`
  in the query string.
- `bklog/apps/log_databus/serializers.py` (CollectItsmApplySerializer, CollectItsmCallbackSerializer) and
  `bklog/config/default.py` (ITSM_LOG_DISPLAY_ROLE = "LOG_SEARCH").
"""
from __future__ import annotations

import json

import pytest

ITSM_LOG_DISPLAY_ROLE = "LOG_SEARCH"
ITSM_TRUE = "true"

LOG_FLOW = """
key: bklog_collect
name: 日志采集接入
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: expect_access_data, name: 期待接入日期, type: DATE, required: true}
      - {key: single_log_size, name: 单条日志大小, type: INT, required: true}
      - {key: single_host_peak, name: 单机流量峰值, type: INT, required: true}
      - {key: single_host_log_volume, name: 单机增长日志量, type: STRING, required: true}
      - {key: expect_host_size, name: 预计接入主机数, type: INT, required: true}
      - {key: log_keep_days, name: 日志保留天数, type: INT, required: true}
      - {key: hot_data_days, name: 热数据天数, type: INT, required: true}
      - {key: apply_reason, name: 申请原因, type: TEXT}
      - {key: collector_detail, name: 采集详情, type: TEXT}
  - key: approval
    name: 采集接入审批
    kind: approval
    processors: {type: PERSON, value: [leader]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approval}
  - {from: approval, to: end}
"""

def decoy(key: str, name: str) -> str:
    return LOG_FLOW.replace("key: bklog_collect", f"key: {key}").replace("name: 日志采集接入", f"name: {name}")


class BkItsmApi:
    """bklog's DataAPI for ITSM: add_esb_info_before_request(no_request) then one HTTP call."""

    def __init__(self, itsm):
        self.itsm = itsm

    def _params(self, params: dict) -> dict:
        params = dict(params)
        params["appenv"] = "o"
        params.setdefault("bk_username", "admin")
        params.setdefault("operator", params["bk_username"])
        params["uin"] = params["bk_username"]
        return params

    def _call(self, method: str, name: str, params: dict):
        params = self._params(params)
        session, url = self.itsm.session, self.itsm.url(name)
        headers = self.itsm.headers(params["bk_username"])
        if method == "GET":
            response = session.get(url, params={**params, "bklog_request_id": "r1"}, headers=headers, timeout=30)
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            response = session.post(url, data=json.dumps(params), params={"bklog_request_id": "r1"},
                                    headers=headers, timeout=30)
        body = response.json()
        assert response.status_code == 200 and body["result"], body     # DataAPI raises on result false
        return body["data"]

    def get_services(self, params):
        return self._call("GET", "get_services", params)

    def __getattr__(self, name):
        endpoint = "token/verify" if name == "token_verify" else name
        return lambda params=None: self._call("POST", endpoint, params or {})


def apply_params() -> dict:
    return {"title": "【日志采集】订单服务-nginx-20260105", "expect_access_data": "2026-01-05", "single_log_size": 10,
            "single_host_peak": 10, "single_host_log_volume": 10.5, "expect_host_size": 3, "log_keep_days": 7,
            "hot_data_days": 3, "apply_reason": "接入 nginx 日志",
            "collector_detail": json.dumps({"config": {}, "schemes": {"base_text_scheme": {"type": "text"}},
                                            "form_data": [{"label": "", "scheme": "base_text_scheme",
                                                           "value": "nginx"}]})}


class BkLog:
    """ItsmHandler with its CollectorConfig row kept in memory."""

    def __init__(self, api: BkItsmApi, callback_url: str):
        self.api, self.callback_url = api, callback_url
        self.status: dict[str, str] = {}          # sn -> applying / success / failed

    def get_log_itsm_service_id(self) -> int:
        params = {"display_role": ITSM_LOG_DISPLAY_ROLE, "display_type": "API", "no_request": True}
        result = self.api.get_services(params)
        assert result, "CollectItsmNotExists"
        return result[0].get("id")

    def create_ticket(self, username: str, apply: dict) -> str:
        params = {"service_id": self.get_log_itsm_service_id(), "creator": username,
                  "fields": [{"key": k, "value": v} for k, v in apply.items()],
                  "meta": {"callback_url": self.callback_url}, "bk_username": "admin", "operator": username}
        sn = self.api.create_ticket(params)["sn"]
        self.status[sn] = "applying"
        return sn

    def collect_itsm_status(self, sn: str) -> dict:
        ticket_info = self.api.get_ticket_status({"sn": sn})
        ticket_detail_info = self.api.get_ticket_info({"sn": sn})
        ret = {"collect_itsm_status": self.status[sn]}
        ret.update({"ticket_url": ticket_info["ticket_url"], "iframe_ticket_url": ticket_info["iframe_ticket_url"]})
        ret.update({f.get("key"): f.get("value") for f in ticket_detail_info.get("fields", [])})
        return ret

    def verify_token(self, token: str) -> bool:
        return self.api.token_verify({"token": token})["is_passed"]

    def update_collect_itsm_status(self, ticket_info: dict) -> None:
        sn = ticket_info.get("sn")
        detail = self.api.get_ticket_info({"sn": sn})
        if self.status[sn] == "success":
            return
        if ticket_info["current_status"] != "RUNNING":
            value = next((f.get("value") for f in detail.get("fields", []) if f.get("key") == "approval_result"), "")
            self.status[sn] = "success" if value == ITSM_TRUE else "failed"

    def collect_itsm_callback(self, data: dict) -> dict:
        """ItsmCallbackViewSet.collect_itsm_callback (CollectItsmCallbackSerializer first)."""
        for key in ("sn", "title", "ticket_url", "current_status", "updated_by", "update_at", "token"):
            assert isinstance(data[key], str) and data[key], key
        assert isinstance(data["approve_result"], bool)
        assert self.verify_token(data["token"]), "CollectItsmTokenIllega"
        self.update_collect_itsm_status(data)
        return {"result": True, "data": None, "code": 0, "message": ""}

    def clean_failed_ticket_callback(self) -> None:
        failed = self.api.callback_failed_ticket()
        applying = [sn for sn, status in self.status.items() if status == "applying"]
        sns = set(failed) | set(applying)
        if not sns:
            return
        for ticket_info in self.api.ticket_approval_result({"sn": sorted(sns)}):
            self.update_collect_itsm_status(ticket_info)


@pytest.fixture
def bklog(live, publish, receiver):
    # what the ITSM admin has: other systems' services, one of them bk-log's
    publish(decoy("iam_like", "权限审批"), display_type="API", display_role="BK_IAM")
    publish(decoy("log_like", "日志旁路"), display_type="API", display_role="LOG_SEARCH_V2")
    publish(decoy("log_open", "日志公开"), display_type="OPEN", display_role="LOG_SEARCH")
    service_id = publish(LOG_FLOW, display_type="API", display_role="BK_FTA,LOG_SEARCH")
    handler = BkLog(BkItsmApi(live.caller("bk_log")),
                    f"{receiver.base}/api/v1/databus/collect_itsm_cb/collect_itsm_callback/")
    receiver.on_receive = handler.collect_itsm_callback
    handler.service_id = service_id
    return handler


def _decide(live, sn: str, result: str) -> None:
    itsm = live.caller("bk_log", "leader")
    step = itsm.get("get_ticket_status", sn=sn)["data"]["current_steps"][0]
    done = itsm.post("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
                     fields=[{"key": "approval_result", "value": result}])
    assert done["result"], done


def test_bk_log_finds_its_service_by_display_filters(bklog):
    assert bklog.get_log_itsm_service_id() == bklog.service_id


@pytest.mark.parametrize("decision,outcome", [("true", "success"), ("false", "failed")])
def test_bk_log_apply_approve_and_callback(bklog, live, deliver, receiver, decision, outcome):
    sn = bklog.create_ticket("alice", apply_params())
    status = bklog.collect_itsm_status(sn)
    assert status["ticket_url"] and status["iframe_ticket_url"] == status["ticket_url"]
    assert status["expect_access_data"] == "2026-01-05" and status["single_log_size"] == 10
    assert json.loads(status["collector_detail"])["form_data"][0]["value"] == "nginx"
    assert status["approval_result"] == ""                         # not decided yet

    _decide(live, sn, decision)
    deliver()
    (path, body), = receiver.received
    assert path == "/api/v1/databus/collect_itsm_cb/collect_itsm_callback/"
    assert bklog.status[sn] == outcome
    assert bklog.collect_itsm_status(sn)["approval_result"] == decision


def test_bk_log_picks_up_a_failed_callback(bklog, live, deliver, receiver):
    receiver.fail = 1                                              # bk-log was down when the ticket ended
    sn = bklog.create_ticket("alice", apply_params())
    _decide(live, sn, "true")
    deliver()
    assert len(receiver.received) == 1 and bklog.status[sn] == "applying"
    assert bklog.api.callback_failed_ticket() == [sn]
    bklog.clean_failed_ticket_callback()                           # bk-log's periodic task
    assert bklog.status[sn] == "success"
    assert bklog.api.callback_failed_ticket() == []                # read by ticket_approval_result
