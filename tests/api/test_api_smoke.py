def test_create_and_walk_an_account_request(api, demo):
    services = api("get_services", service_type="request")
    assert services["result"] is True and services["code"] == 0
    sid = next(s["id"] for s in services["data"] if s["name"] == "账号开通")
    detail = api("get_service_detail", service_id=sid)["data"]
    assert [f["key"] for f in detail["fields"]][:2] == ["title", "system"]
    created = api("create_ticket", service_id=sid, creator="alice",
                  fields=[{"key": "title", "value": "CRM"}, {"key": "system", "value": "crm"},
                          {"key": "account_type", "value": "permanent"}, {"key": "reason", "value": "需要"}])
    assert created["result"], created
    sn = created["data"]["sn"]
    status = api("get_ticket_status", sn=sn)["data"]
    step = status["current_steps"][0]
    assert step["name"] == "直属领导审批" and step["status"] == "RUNNING"
    r = api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
            fields=[{"key": "leader_approve_result", "value": "true"}])
    assert r == {"result": True, "code": 0, "message": "success", "data": []}
    info = api("get_ticket_info", sn=sn)["data"]
    assert info["current_steps"][0]["status"] == "RECEIVING"
    logs = api("get_ticket_logs", sn=sn)["data"]["logs"]
    assert logs[0]["message"] == "流程开始." and logs[-1]["source"] == "API"
    tickets = api("get_tickets", creator="alice")["data"]
    assert tickets["count"] == 1 and tickets["items"][0]["sn"] == sn
    assert api("get_ticket_info", sn="REQ000")["code"] == 3900022
    missing = api("create_ticket", service_id=sid, creator="alice", fields=[{"key": "title", "value": "x"}])
    assert missing["code"] == 3900003 and "缺少参数" in missing["message"]
    cats = api("get_service_catalogs", has_service="true")["data"]
    assert cats[0]["name"] == "根目录"
