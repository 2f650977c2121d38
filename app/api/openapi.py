"""The OpenAPI 3.0 description of the BlueKing-compatible API (served at `/api/openapi.json`).

One operation per endpoint under `/api/c/compapi/v2/itsm/<name>/` (the unversioned
`/api/c/compapi/itsm/<name>/` answers the same and is not listed twice). GET endpoints take
query parameters, POST endpoints a JSON body. Every handled outcome is HTTP 200 with the
envelope `{result, code, message, data}`: `data` has the endpoint's schema on success and is
null on failure.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from app.engine.state import TICKET_STATUS_NAMES

DATETIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
            "description": "YYYY-MM-DD HH:MM:SS in the configured time zone"}
NULLABLE_DATETIME = {**DATETIME, "nullable": True}
STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
ANY: dict = {}      # any JSON value (field values, defaults)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict, required: list[str] | None = None, **extra) -> dict:
    schema = {"type": "object", "properties": props, "required": list(props) if required is None else required}
    schema.update(extra)
    return schema


def arr(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STEP_STATUSES = ["WAIT", "RUNNING", "QUEUEING", "RECEIVING", "DISTRIBUTING", "TERMINATED", "FINISHED", "FAILED",
                 "SUSPEND"]
TICKET_STATUSES = list(TICKET_STATUS_NAMES)

SCHEMAS: dict[str, Any] = {
    "Catalog": obj({"id": INT, "key": STR, "name": STR, "level": INT, "desc": STR,
                    "children": arr(ref("Catalog"))}),
    "Service": obj({"id": INT, "key": STR, "name": STR, "desc": STR, "service_type": STR}),
    "Choice": obj({"key": STR, "name": STR, "children": arr(ref("Choice"))}, required=["key", "name"]),
    "FieldConfig": obj({
        "id": INT, "key": STR, "type": STR, "name": STR, "desc": STR, "choice": arr(ref("Choice")),
        "validate_type": {"type": "string", "enum": ["REQUIRE", "OPTION"]},
        "regex": {"type": "string", "description": "upstream's rule key: EMPTY, or CUSTOM with the pattern in custom_regex"},
        "custom_regex": STR, "regex_config": {"type": "object"}, "regex_message": STR, "max_length": nullable(INT),
        "source_uri": STR, "api_instance_id": INT, "kv_relation": {"type": "object"},
        "show_type": {"type": "integer", "enum": [0, 1], "description": "0: hidden while show_conditions hold"},
        "show_conditions": {"type": "object"},
        "meta": {"type": "object"}, "default": ANY, "layout": {"type": "string", "enum": ["COL_6", "COL_12"]},
        "source_type": STR, "is_readonly": BOOL, "state_id": nullable(INT)}),
    "FieldValue": obj({"id": INT, "key": STR, "type": STR, "name": STR, "desc": STR, "value": ANY,
                       "display_value": STR}),
    "Step": obj({"name": STR, "state_id": INT, "status": {"type": "string", "enum": STEP_STATUSES},
                 "action_type": {"type": "string",
                                 "enum": ["TRANSITION", "CLAIM", "DISTRIBUTE", "AUTOMATIC"]},
                 "tag": STR, "processors_type": STR,
                 "processors": {"type": "string", "description": "comma-separated usernames or role keys"},
                 # approval steps only
                 "type": {"type": "string", "enum": ["APPROVAL", "SIGN"]}, "is_multi": BOOL, "approvers": STR,
                 "pending_approvers": STR,
                 "votes": arr(obj({"processor": STR, "approve_result": BOOL, "remark": STR, "operate_at": STR}))},
                required=["name", "state_id", "status", "action_type", "tag", "processors_type", "processors"]),
    "Operation": obj({"key": STR, "name": STR, "can_operate": BOOL}),
    "TicketItem": obj({
        "id": INT, "sn": STR, "title": STR, "catalog_id": nullable(INT), "service_id": INT, "service_type": STR,
        "flow_id": INT, "current_status": {"type": "string", "enum": TICKET_STATUSES}, "comment_id": STR,
        "is_commented": BOOL, "updated_by": STR, "update_at": DATETIME, "end_at": NULLABLE_DATETIME, "creator": STR,
        "create_at": DATETIME, "bk_biz_id": nullable(INT), "ticket_url": STR, "iframe_ticket_url": STR}),
}

SCHEMAS["SlaClock"] = obj({
    "clock": {"type": "string", "enum": ["response", "resolution"]}, "name": STR,
    "state": {"type": "string", "enum": ["waiting", "running", "paused", "met", "breached"]},
    "target_seconds": INT, "elapsed_seconds": INT, "left_seconds": INT, "due_at": NULLABLE_DATETIME,
    "warn_at": NULLABLE_DATETIME, "stopped_at": NULLABLE_DATETIME,
    "pauses": arr(obj({"start": DATETIME, "end": NULLABLE_DATETIME, "reason": STR, "reason_name": STR}))})
SCHEMAS["Sla"] = nullable(obj({"agreement": STR, "agreement_name": STR, "priority": nullable(STR),
                               "due_at": NULLABLE_DATETIME, "clocks": arr(ref("SlaClock"))}))
_SLA_KEYS = {"priority": nullable(STR), "sla": ref("Sla")}        # extra keys beside BlueKing's (docs/api.md)
_user_item = deepcopy(SCHEMAS["TicketItem"])
_user_item["properties"].update({
    "meta": {"type": "object"}, "service_name": STR, "current_status_display": STR,
    "current_steps": arr(obj({"id": INT, "tag": STR, "name": STR, "state_id": INT})), "priority_name": STR,
    "current_processors": STR, "is_supervise_needed": BOOL, "supervise_type": STR, "supervisor": STR,
    "can_comment": BOOL, "can_operate": BOOL, "waiting_approve": BOOL, "followers": arr(STR), "can_supervise": BOOL,
    "can_withdraw": BOOL, "sla": arr(STR), "sla_color": STR})
_user_item["required"] = list(_user_item["properties"])
SCHEMAS["UserTicketItem"] = _user_item

_info = deepcopy(SCHEMAS["TicketItem"])
_info["properties"].pop("service_type")
_info["properties"].update({"current_steps": arr(ref("Step")), "fields": arr(ref("FieldValue")), **_SLA_KEYS})
_info["required"] = list(_info["properties"])
SCHEMAS["TicketInfo"] = _info
_status_step = {"allOf": [ref("Step"), obj({"operations": arr(ref("Operation")), "fields": arr(ref("FieldConfig"))})]}

DATA: dict[str, dict] = {
    "get_service_catalogs": arr(ref("Catalog")),
    "get_services": arr(ref("Service")),
    "get_service_detail": obj({"service_id": INT, "workflow_id": INT, "name": STR, "service_type": STR,
                               "desc": STR, "fields": arr(ref("FieldConfig"))}),
    "get_service_roles": arr(obj({"id": INT, "name": STR, "processors": STR, "processors_type": STR,
                                  "sign_type": STR})),
    "get_workflow_detail": obj({
        "id": INT, "name": STR, "flow_type": STR, "desc": STR, "version_number": STR, "is_biz_needed": BOOL,
        "states": arr(obj({"id": INT, "key": STR, "name": STR, "type": STR, "distribute_type": STR,
                           "processors_type": STR, "processors": STR, "assignors_type": STR, "assignors": STR,
                           "can_deliver": BOOL, "is_terminable": BOOL, "is_multi": BOOL, "is_sequential": BOOL,
                           "finish_condition": {"type": "object"}, "fields": arr(INT)})),
        "transitions": arr(obj({"id": INT, "from_state": INT, "to_state": INT, "name": STR,
                                "condition_type": {"type": "string", "enum": ["default", "by_field"]},
                                "condition": {"type": "object", "description": "upstream's {type, expressions}"},
                                "when": {"type": "object", "description": "the same condition in our flow language"}})),
        "fields": arr(ref("FieldConfig"))}),
    "create_service_catalog": obj({"id": INT, "key": STR, "level": INT, "parent": nullable(INT),
                                   "parent_key": STR, "parent__id": nullable(INT), "parent_name": STR,
                                   "name": STR, "desc": STR, "project_key": STR}),
    "import_service": obj({"id": INT, "name": STR, "service_type": STR, "desc": STR}),
    "update_service": obj({"id": INT, "name": STR, "service_type": STR, "desc": STR}),
    "create_ticket": obj({"sn": {"type": "string", "pattern": r"^(REQ|CRQ|INC|PBI)\d{14}$"}, "id": INT,
                          "ticket_url": STR}),
    "get_tickets": obj({"page": INT, "total_page": INT, "count": INT, "next": nullable(STR),
                        "previous": nullable(STR), "items": arr(ref("TicketItem"))}),
    "get_ticket_info": ref("TicketInfo"),
    "get_ticket_status": obj({"ticket_url": STR, "iframe_ticket_url": STR,
                              "current_status": {"type": "string", "enum": TICKET_STATUSES},
                              "is_commented": BOOL, "operations": arr(ref("Operation")),
                              "current_steps": arr(_status_step), **_SLA_KEYS}),
    "get_ticket_logs": obj({"sn": STR, "title": STR, "create_at": DATETIME, "creator": STR,
                            "logs": arr(obj({"operator": STR, "message": STR, "operate_at": DATETIME,
                                             "source": {"type": "string",
                                                        "enum": ["WEB", "MOBILE", "API", "SYS"]}}))}),
    "operate_node": arr(ANY, maxItems=0),
    "operate_ticket": arr(ANY, maxItems=0),
    "comment_ticket": arr(ANY, maxItems=0),
    "ticket_approval_result": arr(obj({"sn": STR, "title": STR, "ticket_url": STR, "current_status": STR,
                                       "updated_by": STR, "update_at": DATETIME,
                                       "approve_result": BOOL})),
    "callback_failed_ticket": arr(STR),
    "token/verify": obj({"is_passed": BOOL, "is_valid": BOOL}),
    # issue 15: the endpoints upstream has that were missing
    "get_all_tickets": obj({"page": INT, "total_page": INT, "count": INT, "next": nullable(STR),
                            "previous": nullable(STR), "items": arr(ref("TicketItem"))}),
    "comment": arr(ANY, maxItems=0),
    "approve": arr(ANY, maxItems=0),
    "proceed_approval": arr(ANY, maxItems=0),
    "get_approve_node_result": obj({"name": STR, "processed_user": STR, "approve_result": BOOL,
                                    "approve_remark": STR}),
    "get_approver": obj({"approver": STR}),
    "add_follower": arr(ANY, maxItems=0),
    "edit_field": arr(ANY, maxItems=0),
    "get_tickets_by_user": obj({"page": INT, "total_page": INT, "count": INT, "next": nullable(STR),
                                "previous": nullable(STR), "items": arr(ref("UserTicketItem"))}),
}

FIELDS_PARAM = arr(obj({"key": STR, "value": ANY}, required=["key"]),
                   description="[{key, value}]: list values may be arrays or comma strings")
STR_OR_LIST = {"oneOf": [STR, arr(STR)]}

# endpoint -> (method, summary, params {name: schema}, required names)
ENDPOINTS: dict[str, tuple[str, str, dict, list[str]]] = {
    "get_service_catalogs": ("GET", "服务目录查询 (catalog tree)", {
        "has_service": {"type": "string", "enum": ["true", "false"]}, "service_key": STR, "project_key": STR}, []),
    "get_services": ("GET", "服务列表查询", {"catalog_id": INT, "service_type": STR, "display_type": STR,
                                             "display_role": STR}, []),
    "get_service_detail": ("GET", "服务详情查询 (first-node fields)", {"service_id": INT}, ["service_id"]),
    "get_service_roles": ("GET", "服务角色查询 (processors of the steps after submit)",
                          {"service_id": INT, "ticket_creator": STR, "all": {"type": "string", "enum": ["0", "1"]}},
                          ["service_id"]),
    "get_workflow_detail": ("GET", "流程详情查询 (a deployed flow version)", {"workflow_id": INT},
                            ["workflow_id"]),
    "create_service_catalog": ("POST", "创建服务目录 (super admin)", {
        "name": STR, "parent__id": INT, "desc": STR, "project_key": STR}, ["name"]),
    "import_service": ("POST", "导入服务 (super admin): publish a flow (YAML text or BlueKing export)", {
        "key": STR, "name": STR, "desc": STR, "owners": STR, "is_valid": {"oneOf": [BOOL, STR]},
        "catalog_id": INT, "workflow": {"oneOf": [STR, {"type": "object"}, arr({"type": "object"})]}},
                       ["key", "name", "workflow"]),
    "update_service": ("POST", "更新服务 (super admin)", {
        "id": INT, "key": STR, "name": STR, "desc": STR, "owners": STR, "is_valid": {"oneOf": [BOOL, STR]},
        "catalog_id": INT, "workflow": {"oneOf": [STR, {"type": "object"}, arr({"type": "object"})]}},
                       ["id", "workflow"]),
    "create_ticket": ("POST", "创建单据", {
        "service_id": INT, "creator": STR, "fields": FIELDS_PARAM,
        "meta": obj({"callback_url": {"type": "string", "format": "uri"}}, required=[]),
        "from_ticket_id": INT, "fast_approval": BOOL}, ["service_id", "creator", "fields"]),
    "get_tickets": ("POST", "获取单据列表 (paginated, filters in the body)", {
        "sns": STR_OR_LIST, "creator": STR, "create_at__gte": DATETIME, "create_at__lte": DATETIME,
        "end_at__gte": DATETIME, "end_at__lte": DATETIME, "service_id__in": {"oneOf": [STR, arr(INT)]},
        "bk_biz_id__in": {"oneOf": [STR, arr(INT)]}, "current_status__in": STR_OR_LIST, "service_type": STR,
        "tag": {"type": "string", "description": "only tickets created with this tag (create_ticket's tag)"},
        "username": {"type": "string", "description": "only tickets waiting for this user (to-do and to-claim)"},
        "page": {"type": "integer", "minimum": 1, "default": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}}, []),
    "get_ticket_info": ("GET", "单据详情查询", {"sn": STR}, ["sn"]),
    "get_ticket_status": ("GET", "单据状态查询 (operations for `operator`, default the caller)",
                          {"sn": STR, "operator": STR}, ["sn"]),
    "get_ticket_logs": ("GET", "单据日志查询", {"sn": STR, "show_type": STR}, ["sn"]),
    "operate_node": ("POST", "处理单据节点", {
        "sn": STR, "operator": STR, "state_id": INT,
        "action_type": {"type": "string", "enum": ["TRANSITION", "CLAIM", "DISTRIBUTE", "DELIVER", "TERMINATE"]},
        "fields": FIELDS_PARAM, "processors_type": {"type": "string", "enum": ["PERSON", "GENERAL"]},
        "processors": {"type": "string", "description": "usernames, or role ids / keys for GENERAL"},
        "action_message": STR}, ["sn", "operator", "state_id", "action_type"]),
    "operate_ticket": ("POST", "处理单据", {
        "sn": STR, "operator": STR,
        "action_type": {"type": "string", "enum": ["SUSPEND", "UNSUSPEND", "WITHDRAW", "TERMINATE"]},
        "action_message": STR}, ["sn", "operator", "action_type"]),
    "comment_ticket": ("POST", "评价单据 (creator, once, FINISHED only)", {
        "sn": STR, "operator": STR, "stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comments": STR},
                       ["sn", "stars"]),
    "ticket_approval_result": ("POST", "审批结果查询 (also clears their callback failures)",
                               {"sn": STR_OR_LIST}, ["sn"]),
    "callback_failed_ticket": ("GET", "回调失败的单据", {}, []),
    "token/verify": ("POST", "token 校验 (the token of a result callback)", {"token": STR}, ["token"]),
    "get_all_tickets": ("GET", "获取单据列表 (the gateway's name for get_tickets; GET or POST)", {
        "sns": STR_OR_LIST, "creator": STR, "create_at__gte": DATETIME, "create_at__lte": DATETIME,
        "current_status__in": STR, "service_type": STR, "username": STR,
        "page": {"type": "integer", "minimum": 1, "default": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}}, []),
    "comment": ("POST", "评价单据 (the gateway's name; creator, once, FINISHED only)", {
        "sn": STR, "operator": STR, "stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comments": STR},
                ["sn", "operator", "stars"]),
    "approve": ("POST", "审批 (one approver's decision on an approval node)", {
        "sn": STR, "state_id": INT, "approver": STR, "action": {"type": "string", "enum": ["true", "false"]},
        "remark": STR}, ["sn", "state_id", "approver", "action"]),
    "proceed_approval": ("POST", "审批 (upstream's other names: process_inst_id = sn, activity = state_id)", {
        "process_inst_id": STR, "activity": INT, "handler": STR,
        "submit_action": {"type": "string", "enum": ["true", "false"]}, "submit_opinion": STR},
                         ["process_inst_id", "activity", "handler", "submit_action"]),
    "get_approve_node_result": ("GET", "审批节点结果 (a finished approval node)", {"sn": STR, "state_id": INT},
                                ["sn", "state_id"]),
    "get_approver": ("GET", "节点审批人", {"sn": STR, "state_id": INT}, ["sn", "state_id"]),
    "add_follower": ("POST", "关注 / 取消关注单据", {"sn": STR, "users": STR, "attention": BOOL},
                     ["sn", "users", "attention"]),
    "edit_field": ("POST", "修改字段 (a current processor, ticket in progress)", {
        "sn": STR, "operator": STR, "fields": FIELDS_PARAM}, ["sn", "operator", "fields"]),
    "get_tickets_by_user": ("GET", "用户的单据 (my_todo, my_approval, my_created, my_history, my_dealt, my_attention)", {
        "user": STR, "username": STR,
        "view_type": {"type": "string", "enum": ["my_todo", "my_created", "my_history", "my_approval",
                                                 "my_attention", "my_dealt"]},
        "service_id": INT, "catalog_id": INT, "create_at__gte": DATETIME, "create_at__lte": DATETIME,
        "exclude_ticket_id__in": STR, "page": {"type": "integer", "minimum": 1, "default": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}}, ["user", "view_type"]),
}

CODES = {0: "success", 3900003: "提单失败 (create failed; unknown service, bad first-node fields)",
         3900004: "单据操作失败 (operation refused, permission denied)",
         3900005: "参数验证失败 (validation failed)", 3900022: "没有找到对应的单据 (ticket not found)",
         3900042: "服务不存在 (service not found)", 3900401: "认证失败 (app or user authentication failed)",
         3900404: "接口或对象不存在 (unknown endpoint, unknown flow version)"}

AUTH_PARAMS = {
    "bk_app_code": "应用 ID", "bk_app_secret": "应用密钥",
    "bk_username": "用户名 (apps allowed to act for users only; such apps may omit it on the app-only endpoints "
                   "and name the user in the body)",
    "bk_token": "用户登录态 (the bk_token cookie set by /login)",
}


def _envelope(name: str) -> dict:
    success = obj({"result": {"type": "boolean", "enum": [True]}, "code": {"type": "integer", "enum": [0]},
                   "message": STR, "data": DATA[name]})
    failure = obj({"result": {"type": "boolean", "enum": [False]},
                   "code": {"type": "integer", "enum": [c for c in CODES if c]}, "message": STR,
                   "data": {"nullable": True, "enum": [None]}})
    return {"oneOf": [success, failure]}


def _operation(name: str) -> tuple[str, dict]:
    method, summary, params, required = ENDPOINTS[name]
    op: dict[str, Any] = {
        "operationId": name.replace("/", "_"), "summary": summary, "tags": ["itsm"],
        "responses": {"200": {"description": "The envelope; `data` is null when `result` is false. Codes: "
                                             + "; ".join(f"{k} {v}" for k, v in CODES.items()),
                              "content": {"application/json": {"schema": _envelope(name)}}}},
        "security": [{"bkapiAuthorization": []},
                     {"bkAppCode": [], "bkAppSecret": [], "bkUsername": []},
                     {"bkAppCode": [], "bkAppSecret": [], "bkToken": []}],
    }
    if method == "GET":
        op["parameters"] = [{"name": k, "in": "query", "required": k in required, "schema": v}
                            for k, v in params.items()]
    else:
        body = obj(params, required=required)
        body["properties"].update({k: {"type": "string", "description": d} for k, d in AUTH_PARAMS.items()})
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return method.lower(), op


def openapi_document() -> dict:
    paths = {}
    for name in ENDPOINTS:
        method, op = _operation(name)
        paths[f"/api/c/compapi/v2/itsm/{name}/"] = {method: op}
    schemes: dict[str, Any] = {
        "bkapiAuthorization": {"type": "apiKey", "in": "header", "name": "X-Bkapi-Authorization",
                               "description": 'JSON: {"bk_app_code", "bk_app_secret", "bk_username" | "bk_token"} '
                                              "(bkapi-component-open)"},
        "bkAppCode": {"type": "apiKey", "in": "query", "name": "bk_app_code",
                      "description": "or a JSON body key (bk-itsm-sdk)"},
        "bkAppSecret": {"type": "apiKey", "in": "query", "name": "bk_app_secret",
                        "description": "or a JSON body key (bk-itsm-sdk)"},
        "bkUsername": {"type": "apiKey", "in": "query", "name": "bk_username",
                       "description": "trusted only for apps allowed to act for users"},
        "bkToken": {"type": "apiKey", "in": "query", "name": "bk_token",
                    "description": "a user's login token (the bk_token cookie of /login also works)"},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "ITSM BlueKing-compatible API", "version": "2.0",
                 "description": "BlueKing ITSM's component API (`/api/c/compapi/v2/itsm/<name>/`, also without "
                                "`/v2`). HTTP 200 with `{result, code, message, data}` for every handled outcome. "
                                "See docs/api.md."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": deepcopy(SCHEMAS), "securitySchemes": schemes},
    }
