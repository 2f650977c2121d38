"""One function per API endpoint: parse params, authorize, call a service, shape the answer."""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Callable

from flask import request

from app.engine.state import OPERATION_NAMES
from app.errors import OperationRefused, PermissionDenied, ServiceNotFound
from app.models import Service, Ticket
from app.services.catalog import (builtin_approval_service, catalog_tree, create_catalog, get_service,
                                  import_bk_service, looks_like_bk_service, publish_service, submittable_services)
from app.services import sla
from app.services.flows import compiled_version, get_version, node_by_state_id
from app.services.integration import check_callback_url, failed_callback_sns, verify_callback_token
from app.services.people import find_user, general_role_keys, outside_user, spec_usernames
from app.services.tickets import (
    VIEW_TYPES,
    TicketSearch,
    UserTicketFilters,
    allowed,
    approval_results,
    approve_node_result,
    approve_step,
    edit_fields,
    followers_of,
    service_names,
    set_followers,
    step_approvers,
    tickets_of_user,
    can_view,
    comment_ticket,
    create_ticket,
    get_ticket,
    lock_ticket,
    logs_of,
    open_steps,
    operate_step,
    operate_ticket,
    search_tickets,
    ticket_url,
)
from app.limits import INT_MAX
from app.timeutil import fmt, parse_local

from . import ApiParamError, Caller
from .serializers import (
    dynamic_fields,
    field_config,
    service_item,
    step_summary,
    ticket_fields,
    ticket_item,
    user_ticket_item,
    workflow_detail,
)

ENDPOINTS: dict[str, Callable[[dict, Caller], Any]] = {}
WRITES: set[str] = set()        # endpoints that change something: POST with a JSON body only

# App-only authentication (bk_app_code + bk_app_secret, no bk_username / bk_token). Upstream's gateway
# marks these endpoints `userVerifiedRequired: false` (itsm/openapi/management/commands/data/
# api-resources.yaml); `approve` and `ticket_approval_result` are added because bk-hcm calls them with its
# app credentials alone (pkg/cc/types.go GetAuthValue). Apps trusted to act for users may call them alone
# and name the user in the body (creator / operator / approver / user); other apps only the public reads.
APP_ONLY_PUBLIC = frozenset({"get_service_catalogs", "get_services", "get_service_detail", "token/verify"})
APP_ONLY = APP_ONLY_PUBLIC | frozenset({
    "create_service_catalog", "create_ticket", "get_all_tickets", "get_approve_node_result", "get_approver",
    "get_ticket_info", "get_ticket_logs", "get_ticket_status", "get_tickets", "get_tickets_by_user",
    "import_service", "update_service", "operate_node", "operate_ticket", "proceed_approval",
    "approve", "ticket_approval_result"})


def endpoint(name: str, *, writes: bool = False):
    def register(fn):
        ENDPOINTS[name] = fn
        if writes:
            WRITES.add(name)
        return fn

    return register


# --- parameter helpers -------------------------------------------------------------

def _required(params: dict, key: str) -> Any:
    value = params.get(key)
    if value is None or value == "":
        raise ApiParamError(f"缺少参数 {key}")
    return value




def _int(params: dict, key: str, *, required: bool = True, default: int | None = None) -> int | None:
    value = _required(params, key) if required else params.get(key)
    if value is None or value == "":
        return default
    return _as_int(value, key)


def _as_int(value: Any, key: str) -> int:
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ApiParamError(f"参数 {key} 应为整数，收到 {value!r}") from None
    if abs(number) > INT_MAX:
        raise ApiParamError(f"参数 {key} 超出范围：{value!r}")
    return number


def _str(params: dict, key: str, default: str = "") -> str:
    """A text parameter; numbers are taken as their text, lists and objects are refused."""
    value = params.get(key)
    if value is None:
        return default
    if isinstance(value, (dict, list, bool)):
        raise ApiParamError(f"参数 {key} 应为字符串，收到 {value!r}")
    return str(value)


def _list(value: Any) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return list(json.loads(text))
            except ValueError:
                raise ApiParamError(f"参数不是合法的 JSON 列表: {value!r}") from None
        return [p.strip() for p in text.split(",") if p.strip()]
    return [value]


def _datetime(params: dict, key: str) -> datetime | None:
    value = params.get(key)
    if not value:
        return None
    try:
        return parse_local(str(value))
    except ValueError:
        raise ApiParamError(f"参数 {key} 的时间格式应为 YYYY-MM-DD HH:MM:SS") from None


def _fields(params: dict) -> dict:
    raw = params.get("fields") or []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ApiParamError("fields 应为 [{key, value}] 列表") from None
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if not isinstance(raw, list) or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in raw):
        raise ApiParamError("fields 应为 [{key, value}] 列表")
    return {item["key"]: item.get("value") for item in raw}


def _acting_user(caller: Caller, username: str | None, param: str = "operator", *, outside: bool = False):
    """The user an operation is done as: the caller, or anyone for apps trusted to act for users.

    An app calling alone (app-only authentication, only apps trusted to act for users get that far
    on these endpoints) must name the user in `param`. `outside`: a trusted app may also name someone
    with no account here (a ticket's creator, as upstream stores any creator; that creator withdrawing
    it); a disabled account stays refused.
    """
    if caller.user is None:
        if not username:
            raise ApiParamError(f"缺少参数 {param}（仅以应用身份调用时须指明操作的用户）")
    elif not username or username == caller.user.username:
        return caller.user
    elif not caller.app.act_for_users and not caller.user.is_superuser:
        raise PermissionDenied(f"{param} 必须是当前用户 {caller.user.username}（应用未被允许代替用户操作）")
    user = find_user(username)
    if user is None and outside:
        return outside_user(username)
    if user is None or not user.is_enabled:
        raise OperationRefused(f"{param} 用户 {username} 不存在")
    return user


def _trusted(caller: Caller) -> bool:
    """Super admins, apps trusted to act for users, and such apps calling alone see every ticket."""
    return bool(caller.app.act_for_users or caller.user is None or caller.user.is_superuser)


def _caller_name(caller: Caller) -> str:
    """Who did it, for records: the user, or the app's code when it called alone."""
    return caller.user.username if caller.user is not None else caller.app.app_code


def _ticket(params: dict, caller: Caller) -> Ticket:
    sn = str(_required(params, "sn"))
    ticket = get_ticket(sn)
    if not _trusted(caller) and not can_view(ticket, caller.user):
        raise PermissionDenied("你没有查看该单据的权限")
    return ticket


def _require_admin(caller: Caller) -> None:
    """Service configuration: a super admin, or an app trusted to act for users calling without a user
    (upstream marks import_service / update_service / create_service_catalog as not needing one)."""
    user = getattr(caller, "user", None)
    if user is None:
        if not caller.app.act_for_users:
            raise PermissionDenied("只有 ITSM 超级管理员（或被允许代替用户操作的应用）可以修改服务配置")
        return
    if not user.is_superuser:
        raise PermissionDenied("只有 ITSM 超级管理员可以修改服务配置")


# --- services and catalogs ---------------------------------------------------------

@endpoint("get_service_catalogs")
def get_service_catalogs(params: dict, caller: Caller):
    return catalog_tree(with_services_only=str(params.get("has_service", "")).lower() == "true",
                        service_key=_str(params, "service_key"))


@endpoint("get_services")
def get_services(params: dict, caller: Caller):
    catalog_id = _int(params, "catalog_id", required=False)
    services = submittable_services(catalog_id=catalog_id, service_type=_str(params, "service_type") or None,
                                    display_type=_str(params, "display_type") or None,
                                    display_role=_str(params, "display_role") or None)
    return [service_item(s) for s in services]


def _service(params: dict) -> Service:
    return get_service(_int(params, "service_id"))


@endpoint("get_service_detail")
def get_service_detail(params: dict, caller: Caller):
    service = _service(params)
    flow = compiled_version(service.flow_version_id)
    return {"service_id": service.id, "workflow_id": service.flow_version_id, "name": service.name,
            "service_type": service.service_type, "desc": service.desc,
            "fields": [field_config(flow, f) for f in flow.start.fields]}


@endpoint("get_service_roles")
def get_service_roles(params: dict, caller: Caller):
    service = _service(params)
    flow = compiled_version(service.flow_version_id)
    show_all = str(params.get("all", "0")) == "1"
    out = []
    for i, node in enumerate(flow.definition.nodes, start=1):
        if node.kind in ("start", "end", "parallel", "converge") or (node.kind not in ("manual", "approval", "sign") and not show_all):
            continue
        spec = node.assignors if node.distribute_type.startswith("DISTRIBUTE") else node.effective_processors
        value = spec_usernames(spec, _str(params, "ticket_creator"))     # roles resolved to their members
        out.append({"id": i, "name": node.name, "processors": value, "processors_type": spec.type,
                    "sign_type": "and" if node.is_countersign else "or"})
    return out


@endpoint("get_workflow_detail")
def get_workflow_detail(params: dict, caller: Caller):
    version = get_version(_int(params, "workflow_id"))
    return workflow_detail(version, compiled_version(version))


@endpoint("create_service_catalog", writes=True)
def create_service_catalog(params: dict, caller: Caller):
    _require_admin(caller)
    parent_id = _int(params, "parent__id", required=False)
    _required(params, "name")
    row = create_catalog(_str(params, "name"), parent_id=parent_id, desc=_str(params, "desc"),
                         by=_caller_name(caller))
    parent = row.parent
    return {"id": row.id, "key": row.key, "level": row.level, "parent": parent.id if parent else None,
            "parent_key": parent.key if parent else "", "parent__id": parent.id if parent else None,
            "parent_name": parent.name if parent else "", "name": row.name, "desc": row.desc, "project_key": "0"}


def _publish(params: dict, caller: Caller, service_id: int | None):
    _require_admin(caller)
    workflow = params.get("workflow")
    if looks_like_bk_service(workflow):               # a BlueKing service export, as blueking-dbm and -paas send it
        result = import_bk_service(params, service_id=service_id, by=_caller_name(caller))
        return _service_answer(result.service, result.notes)
    if isinstance(workflow, list) and workflow:     # BlueKing exports are a one-element list
        workflow = workflow[0]
    if workflow is not None and not isinstance(workflow, (str, dict)):
        raise ApiParamError("workflow 应为流程 YAML 文本或蓝鲸导出的流程 JSON")
    service = publish_service(key=_str(params, "key"), name=_str(params, "name"), flow_text=workflow or "",
                              desc=_str(params, "desc"), owners=_str(params, "owners"),
                              catalog_id=_int(params, "catalog_id", required=False),
                              is_valid=str(params.get("is_valid", "true")).lower() not in ("false", "0"),
                              service_id=service_id, by=_caller_name(caller))
    return _service_answer(service, [])



def _service_answer(service: Service, notes: list[str]) -> dict:
    """Upstream's service serializer fields callers read (`id`, `name`), plus the import report."""
    catalog = next(iter(service.links), None)
    return {"id": service.id, "key": service.service_type, "name": service.name, "service_type": service.service_type,
            "desc": service.desc, "is_valid": service.is_valid, "owners": service.owners,
            "workflow_id": service.flow_version_id, "catalog_id": catalog.catalog_id if catalog else None,
            "import_report": notes}


@endpoint("import_service", writes=True)
def import_service(params: dict, caller: Caller):
    return _publish(params, caller, None)


@endpoint("update_service", writes=True)
def update_service(params: dict, caller: Caller):
    return _publish(params, caller, _int(params, "id"))


# --- tickets -------------------------------------------------------------------------

@endpoint("create_ticket", writes=True)
def create_ticket_endpoint(params: dict, caller: Caller):
    fast = params.get("fast_approval") is True or str(params.get("fast_approval", "")).lower() in ("true", "1")
    try:
        if fast and params.get("service_id") in (None, ""):      # 内置审批服务
            service_id = builtin_approval_service().id
        else:
            service_id = _as_int(params.get("service_id"), "service_id")
    except (ApiParamError, ServiceNotFound) as exc:
        from app.errors import CreateFailed

        raise CreateFailed(exc.message if isinstance(exc, ServiceNotFound) else "服务不存在，请联系管理员！") from None
    creator = _acting_user(caller, _str(params, "creator"), "creator", outside=True)
    meta = params.get("meta") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta) if meta.strip() else {}
        except ValueError:
            raise ApiParamError("meta 应为 JSON 对象") from None
    if not isinstance(meta, dict):
        raise ApiParamError("meta 应为 JSON 对象")
    callback = meta.get("callback_url")
    if callback and not (isinstance(callback, str) and callback.startswith(("http://", "https://"))):
        raise ApiParamError("meta.callback_url 应以 http:// 或 https:// 开头")
    if callback:
        check_callback_url(caller.app, callback)       # the app's allow-list, no private addresses unless allowed
    related = _int(params, "from_ticket_id", required=False)
    kept = {"callback_url": callback, "app_code": caller.app.app_code} if callback else {}
    if meta.get("state_processors"):
        if not isinstance(meta["state_processors"], dict):
            raise ApiParamError('meta.state_processors 应为 {"节点ID": "处理人1,处理人2"}')
        kept["state_processors"] = meta["state_processors"]
    for key in ("dynamic_fields", "tag"):          # bk-iam: extra fields shown with the ticket; a label to filter on
        if params.get(key) not in (None, "", []):
            kept[key] = params[key]
    ticket = create_ticket(service_id=service_id, creator=creator, fields=_fields(params), source="API",
                           meta=kept, related_to=related)
    return {"sn": ticket.sn, "id": ticket.id, "ticket_url": ticket_url(ticket)}


@endpoint("get_tickets")
def get_tickets(params: dict, caller: Caller):
    page = max(_int(params, "page", required=False, default=1), 1)
    size = min(max(_int(params, "page_size", required=False, default=10), 1), 10000)
    search = TicketSearch(
        sns=[str(s) for s in _list(params.get("sns"))], creator=_str(params, "creator"),
        created_from=_datetime(params, "create_at__gte"),
        created_to=_datetime(params, "create_at__lte") or _datetime(params, "create_atlte"),
        ended_from=_datetime(params, "end_at__gte"), ended_to=_datetime(params, "end_at__lte"),
        service_ids=_int_list(params, "service_id__in"), biz_ids=_int_list(params, "bk_biz_id__in"),
        statuses=[str(v) for v in _list(params.get("current_status__in"))], service_type=_str(params, "service_type"),
        tag=_str(params, "tag"))
    count, rows = search_tickets(caller.user, search, see_all=_trusted(caller), waiting_for=_str(params, "username"),
                                 page=page, per_page=size)
    total_page = max(1, math.ceil(count / size))
    base = request.base_url

    def link(n):
        return f"{base}?page={n}&page_size={size}" if 1 <= n <= total_page and count else None

    return {"page": page, "total_page": total_page, "count": count, "next": link(page + 1),
            "previous": link(page - 1) if page > 1 else None, "items": [ticket_item(t) for t in rows]}


def _int_list(params: dict, key: str) -> list[int]:
    try:
        return [_as_int(v, key) for v in _list(params.get(key))]
    except ApiParamError:
        raise ApiParamError(f"参数 {key} 应为整数列表") from None


@endpoint("get_ticket_info")
def get_ticket_info(params: dict, caller: Caller):
    ticket = _ticket(params, caller)
    flow = compiled_version(ticket.flow_version_id)
    steps = open_steps(ticket)
    data = ticket_item(ticket)
    data.pop("service_type")
    data["current_steps"] = [step_summary(s, _action_type(s)) for s in steps]
    data["fields"] = ticket_fields(flow, ticket) + dynamic_fields(flow, ticket)
    data["priority"] = ticket.priority                 # extra keys (docs/api.md): the service level
    data["sla"] = sla.sla_summary(ticket)
    return data


def _action_type(step) -> str:
    from app.engine.state import action_type_of

    return action_type_of(step.kind, step.status, step.pre_status)


@endpoint("get_ticket_status")
def get_ticket_status(params: dict, caller: Caller):
    ticket = _ticket(params, caller)
    flow = compiled_version(ticket.flow_version_id)
    steps = open_steps(ticket)
    name = _str(params, "operator") or _str(params, "username")
    who = _acting_user(caller, name, "operator") if name else caller.user
    ticket_ops, step_ops = allowed(ticket, who, steps) if who is not None else ([], {})
    current = []
    for s in steps:
        item = step_summary(s, _action_type(s))
        item["operations"] = [{"key": k, "name": OPERATION_NAMES[k], "can_operate": True} for k in step_ops.get(s.node_key, [])]
        item["fields"] = [field_config(flow, f) for f in flow.node(s.node_key).fields]
        current.append(item)
    return {"ticket_url": ticket_url(ticket), "iframe_ticket_url": ticket_url(ticket),
            "current_status": ticket.status, "is_commented": ticket.is_commented,
            "operations": [{"key": k, "name": OPERATION_NAMES[k], "can_operate": True} for k in ticket_ops],
            "current_steps": current, "priority": ticket.priority, "sla": sla.sla_summary(ticket)}


@endpoint("get_ticket_logs")
def get_ticket_logs(params: dict, caller: Caller):
    ticket = _ticket(params, caller)
    return {"sn": ticket.sn, "title": ticket.title, "create_at": fmt(ticket.created_at), "creator": ticket.creator,
            "logs": [{"operator": log.operator, "message": log.message, "source": log.source,
                      "operate_at": fmt(log.created_at)} for log in logs_of(ticket)]}


def _role_keys(processors_type: str, processors: Any) -> str:
    """GENERAL processors may be given as role ids (BlueKing) or role keys; the services take keys."""
    values = [str(v) for v in _list(processors)]
    return ",".join(general_role_keys(values) if processors_type == "GENERAL" else values)


@endpoint("operate_node", writes=True)
def operate_node(params: dict, caller: Caller):
    ticket = lock_ticket(str(_required(params, "sn")))     # the row alone; operate_step reads its steps next
    operator = _acting_user(caller, str(_required(params, "operator")))
    action = str(_required(params, "action_type")).upper()
    flow = compiled_version(ticket.flow_version_id)
    node_key = node_by_state_id(flow, _int(params, "state_id"))
    if node_key is None:
        raise OperationRefused(f"节点 {params.get('state_id')} 不存在")
    processors_type = _str(params, "processors_type")
    fields = _fields(params) if action == "TRANSITION" else None
    if fields and flow.node(node_key).kind == "approval":      # 审批意见 may come as a JSON boolean
        fields = {k: str(v).lower() if isinstance(v, bool) else v for k, v in fields.items()}
    operate_step(ticket, operator, action, node_key, fields=fields,
                 processors_type=processors_type, processors=_role_keys(processors_type, params.get("processors")),
                 message=str(params.get("action_message") or ""), source="API")
    return []


@endpoint("operate_ticket", writes=True)
def operate_ticket_endpoint(params: dict, caller: Caller):
    ticket = lock_ticket(str(_required(params, "sn")))     # the row alone; operate_ticket reads its steps next
    operator = _acting_user(caller, str(_required(params, "operator")), outside=True)    # (a creator withdrawing)
    operate_ticket(ticket, operator, str(_required(params, "action_type")),
                   message=str(params.get("action_message") or ""), source="API")
    return []


@endpoint("comment_ticket", writes=True)
def comment_ticket_endpoint(params: dict, caller: Caller):
    ticket = get_ticket(str(_required(params, "sn")))
    operator = _acting_user(caller, _str(params, "operator"))
    stars = params.get("stars")
    try:
        if isinstance(stars, bool):
            raise ValueError
        stars = int(stars)
    except (TypeError, ValueError, OverflowError):
        raise ApiParamError("评分 stars 应为 1 到 5 的整数") from None
    comment_ticket(ticket, operator, stars, str(params.get("comments") or ""), source="API")
    return []


@endpoint("ticket_approval_result", writes=True)     # marks failed callbacks as reported
def ticket_approval_result(params: dict, caller: Caller):
    sns = [str(s) for s in _list(_required(params, "sn"))]
    return [{"sn": t.sn, "title": t.title, "ticket_url": ticket_url(t), "current_status": t.status,
             "updated_by": t.updated_by, "update_at": fmt(t.updated_at),
             "approve_result": bool(t.approve_result) and t.is_over}     # false until the ticket is over
            for t in approval_results(sns, caller.user, see_all=_trusted(caller))]


@endpoint("callback_failed_ticket")
def callback_failed_ticket(params: dict, caller: Caller):
    return failed_callback_sns(caller.user, see_all=_trusted(caller))


@endpoint("token/verify")
def token_verify(params: dict, caller: Caller):
    passed = verify_callback_token(str(params.get("token") or ""))
    # upstream answers is_passed; bk-monitor's FTA callback view reads is_valid (ITSMCallbackResource)
    return {"is_passed": passed, "is_valid": passed}



# --- issue 15: the endpoints upstream has that were missing --------------------------------

ENDPOINTS["get_all_tickets"] = get_tickets      # the gateway's name for get_tickets (GET or POST)


@endpoint("comment", writes=True)                # the gateway's name; comment_ticket stays
def comment(params: dict, caller: Caller):
    _required(params, "operator")
    return comment_ticket_endpoint(params, caller)


@endpoint("approve", writes=True)
def approve(params: dict, caller: Caller):
    """审批: one approver's decision ("true"/"false") on an approval node, with a remark."""
    sn, state = str(_required(params, "sn")), _int(params, "state_id")
    approver = _acting_user(caller, str(_required(params, "approver")), "approver")
    approve_step(sn, approver, state, _required(params, "action"), _str(params, "remark"), source="API")
    return []


@endpoint("proceed_approval", writes=True)
def proceed_approval(params: dict, caller: Caller):
    """审批 in upstream's other vocabulary: process_inst_id (sn), activity (state_id), handler, submit_action."""
    sn, state = str(_required(params, "process_inst_id")), _int(params, "activity")
    handler = _acting_user(caller, str(_required(params, "handler")), "handler")
    approve_step(sn, handler, state, _required(params, "submit_action"), _str(params, "submit_opinion"),
                 source="API")
    return []


@endpoint("get_approve_node_result")
def get_approve_node_result(params: dict, caller: Caller):
    ticket = _ticket(params, caller)
    return approve_node_result(ticket, _int(params, "state_id"))


@endpoint("get_approver")
def get_approver(params: dict, caller: Caller):
    ticket = _ticket(params, caller)
    return {"approver": step_approvers(ticket, _int(params, "state_id"))}


@endpoint("add_follower", writes=True)
def add_follower(params: dict, caller: Caller):
    """关注 (attention true) or stop following (false) a ticket, for `users` (comma string or list)."""
    ticket = _ticket(params, caller)
    attention = params.get("attention")
    if isinstance(attention, str):
        attention = attention.strip().lower() in ("true", "1")
    users = [str(u) for u in _list(_required(params, "users"))]
    set_followers(ticket, users, bool(attention), caller.user, trusted=_trusted(caller))
    return []


@endpoint("edit_field", writes=True)
def edit_field(params: dict, caller: Caller):
    """修改字段: new values for fields of a ticket in progress, by one of its current processors."""
    sn = str(_required(params, "sn"))
    operator = _acting_user(caller, str(_required(params, "operator")))
    fields = _fields(params)
    if not fields:
        raise ApiParamError("缺少参数 fields")
    edit_fields(sn, operator, fields, source="API")
    return []


@endpoint("get_tickets_by_user")
def get_tickets_by_user(params: dict, caller: Caller):
    """One of a user's views (my_todo, my_approval, ...), paginated like get_tickets."""
    username = _str(params, "username") or _str(params, "user")
    if not username:
        raise ApiParamError("user 为必填项")
    view_type = _str(params, "view_type")
    if view_type not in VIEW_TYPES:
        raise ApiParamError(f"view_type 应为 {', '.join(VIEW_TYPES)} 之一，收到 {view_type!r}")
    page = max(_int(params, "page", required=False, default=1), 1)
    size = min(max(_int(params, "page_size", required=False, default=10), 1), 10000)
    filters = UserTicketFilters(
        service_id=_int(params, "service_id", required=False), catalog_id=_int(params, "catalog_id", required=False),
        created_from=_datetime(params, "create_at__gte"), created_to=_datetime(params, "create_at__lte"),
        exclude_ids=_int_list(params, "exclude_ticket_id__in"))
    count, rows = tickets_of_user(caller.user, username, view_type, filters, see_all=_trusted(caller),
                                  page=page, per_page=size)
    names = service_names(r.ticket.service_id for r in rows)
    follows = followers_of([r.ticket.id for r in rows])
    total_page = max(1, math.ceil(count / size))
    base = request.base_url

    def link(n):
        return f"{base}?page={n}&page_size={size}&view_type={view_type}" if 1 <= n <= total_page and count else None

    return {"page": page, "total_page": total_page, "count": count, "next": link(page + 1),
            "previous": link(page - 1) if page > 1 else None,
            "items": [user_ticket_item(r, username, names, follows.get(r.ticket.id, [])) for r in rows]}
