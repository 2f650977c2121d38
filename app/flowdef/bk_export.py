"""BlueKing ITSM workflow exports ⇄ our flow language.

BlueKing (bk-itsm) exports a flow as JSON: a workflow `{name, states{}, transitions{}, fields{},
notify, ...}` (its 流程导出 gives a list of them, `initials/workflow/bk_itsm_builtin_workflow.json`),
or, for `import_service`, a service `{key, name, desc, workflow: {...}}` where `key` is the service
type (`request`, `change`, ...). `from_bk` translates one workflow into our flow data (the dict a
flow file holds) and a report of everything that could not be carried over; `to_bk` does the
reverse. Nothing here touches Flask or a database: the services save and deploy the result.

What maps to what (docs/flows.md, "Importing BlueKing exports", has the full table):

- START + the first state (提单, `is_first_state`) → our `start` node (its fields are the form);
  NORMAL → `manual`, APPROVAL → `approval` (its 审批意见/备注 fields become the node's built-in
  decision fields, its `NODE_APPROVE_RESULT` variable `<node>_result`), SIGN → `sign`, END → `end`.
  TASK / TASK-SOPS / TASK-DEVOPS / WEBHOOK / BK-PLUGIN become `manual` nodes (reported: the automatic
  work is not carried over); ROUTER-P / COVERAGE map to `parallel` / `converge` where those node
  kinds exist, and are refused otherwise (a gateway cannot be turned into a step).
- Conditions `{type: and|or, expressions: [...]}` (nested groups, leaves `{key, condition, value}`)
  → `all` / `any` / compare; `G_INT_1 == 1` (upstream's "always") → no condition.
- Anything else that has no equivalent (triggers, task schemas, SLA-like field relations, API-sourced
  choices, unknown regex rules, SMS notices, ...) is listed in the report, never dropped silently.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .model import (APPROVAL_VARIABLES, APPROVE, FIELD_TYPES, NODE_KINDS, PROCESSOR_TYPES,
                    PROCESSOR_TYPES_WITHOUT_VALUE, REJECT, SERVICE_TYPE_ALIASES, SERVICE_TYPES, AllOf, AnyOf, Compare, FieldDef, FlowDef, NodeDef, NotOf)

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ALWAYS_KEY = "G_INT_1"           # upstream's "always true" condition: G_INT_1 == 1
OWN_KEY = "itsm_key"             # where our export keeps our keys (state / workflow `extras`), for round trips

STATE_KINDS = {"NORMAL": "manual", "APPROVAL": "approval", "SIGN": "sign", "END": "end"}
AUTOMATIC_STATES = ("TASK", "TASK-SOPS", "TASK-DEVOPS", "WEBHOOK", "BK-PLUGIN")
GATEWAYS = {"ROUTER-P": "parallel", "COVERAGE": "converge"}
GATEWAY_NAMES = {"ROUTER-P": "并行网关", "COVERAGE": "汇聚网关"}     # upstream leaves gateways unnamed
KIND_STATES = {"start": "NORMAL", "manual": "NORMAL", "approval": "APPROVAL", "sign": "SIGN", "end": "END",
               "api": "TASK", "automation": "TASK", "parallel": "ROUTER-P", "converge": "COVERAGE"}
OPS = {"==": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=", "in": "in", "notin": "notin",
       "issuperset": "contains"}
NEGATED = {"==": "!=", "!=": "==", ">": "<=", "<=": ">", "<": ">=", ">=": "<", "in": "notin", "notin": "in",
           "issuperset": "notissuperset", "notissuperset": "issuperset"}
# upstream's built-in notify rows (itsm/openapi/base_service/views/service.py lists them in this order)
NOTIFY_IDS = {1: "WEIXIN", 2: "EMAIL", 3: "SMS"}
NOTIFY_CHANNELS = {"WEIXIN": "wecom", "EMAIL": "email"}
CHANNEL_NOTIFY = {"wecom": 1, "email": 2}
LAYOUTS = {"COL_6": "half", "COL_12": "full"}
# upstream's named regex rules (itsm/component/constants/ticket.py REGEX_CHOICES) as patterns
REGEX_RULES = {
    "FLOAT": r"^-?\d+(\.\d+)?$",
    "NON_NEGATIVE": r"^\d+(\.\d+)?$",
    "NON_POSITIVE": r"^(-\d+(\.\d+)?|0+(\.0+)?)$",
    "GTE_ZERO": r"^(0*[1-9]\d*(\.\d+)?|0+\.\d*[1-9]\d*)$",
    "LTE_ZERO": r"^-(0*[1-9]\d*(\.\d+)?|0+\.\d*[1-9]\d*)$",
    "LOWER_EN": r"^[a-z]+$",
    "UPPER_EN": r"^[A-Z]+$",
    "EN": r"^[A-Za-z]+$",
    "EN_NUM": r"^[A-Za-z0-9]+$",
    "CH": r"^[\u4e00-\u9fa5]+$",
    "EN_CH": r"^[A-Za-z\u4e00-\u9fa5]+$",
    "EN_CH_NUM": r"^[A-Za-z0-9_\u4e00-\u9fa5]+$",
    "START_EN": r"^[A-Za-z][A-Za-z0-9_\u4e00-\u9fa5]*$",
    "EMAIL": r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$",
    "PHONE_NUM": r"^1[3-9]\d{9}$",
    "ID_CARD": r"^\d{17}[\dXx]$",
    "QQ": r"^[1-9]\d{4,11}$",
    "IP": r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$",
    "NUM": r"^\d+$",
    "NUMWITHOUTZERO": r"^[1-9]\d*$",
}
RULE_OF_PATTERN = {v: k for k, v in REGEX_RULES.items()}


class BkExportError(ValueError):
    """The document is not a usable BlueKing export; `problems` lists each (`where: what`)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Translation:
    """One imported workflow: our flow data, the service it came with (if any), and the report."""

    flow: dict
    notes: list[str] = field(default_factory=list)
    service: dict = field(default_factory=dict)     # name, desc, service_type of a service export


# --- reading the document ------------------------------------------------------------------

def is_bk_export(data: Any) -> bool:
    """Whether parsed JSON looks like a BlueKing export (a workflow, a list of them, or a service)."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(d, dict) for d in data) and is_bk_export(data[0])
    if not isinstance(data, dict):
        return False
    if "states" in data and "transitions" in data:
        return True
    wf = data.get("workflow")
    if isinstance(wf, list) and wf:
        wf = wf[0]
    return isinstance(wf, dict) and "states" in wf


def parse_bk_text(text: str) -> Any:
    """The JSON of an export file (BkExportError saying where it is broken)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BkExportError([f"not valid JSON: {exc}"]) from None


def from_bk_document(data: Any, *, key: str | None = None) -> list[Translation]:
    """Every workflow of an export document (a service, one workflow, or a list), translated."""
    if not is_bk_export(data):
        raise BkExportError(["not a BlueKing workflow export: expected a workflow with 'states' and 'transitions', "
                             "a list of them, or a service with 'workflow'"])
    if isinstance(data, list):
        out, problems = [], []
        for i, wf in enumerate(data):
            try:
                out.append(from_bk(wf, key=f"{key}_{i + 1}" if key and len(data) > 1 else key, where=f"[{i}]"))
            except BkExportError as exc:
                problems += exc.problems
        if problems:
            raise BkExportError(problems)
        return out
    return [from_bk(data, key=key)]


def from_bk(data: dict, *, key: str | None = None, where: str = "") -> Translation:
    """One workflow (or a service export) → our flow data + report; BkExportError if it cannot be used."""
    return _Importer(data, key, where).run()


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _split(v: Any) -> list[str]:
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if str(x).strip()]
    return [p.strip() for p in _text(v).split(",") if p.strip()]


def _by_id(section: Any, name: str, problems: list[str], where: str) -> dict[str, dict]:
    """`states` / `transitions` / `fields` as {id text: item}: upstream writes a dict keyed by id (or a list)."""
    if section is None:
        return {}
    items = section.values() if isinstance(section, dict) else section if isinstance(section, list) else None
    if items is None:
        problems.append(f"{where}{name}: expected an object keyed by id (or a list), got {type(section).__name__}")
        return {}
    out: dict[str, dict] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            problems.append(f"{where}{name}[{i}]: expected an object with an 'id'")
            continue
        out[str(item["id"])] = item
    return out


def _flow_key(name: str, given: str | None) -> str:
    if given and KEY_RE.match(given):
        return given
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower()
    if name.isascii() and slug and KEY_RE.match(slug) and len(slug) <= 40:
        return f"bk_{slug}"
    return "bk_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


class _Importer:
    def __init__(self, data: dict, key: str | None, where: str):
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.where = where
        self.service: dict = {}
        wf = data
        if "workflow" in data and "states" not in data:
            wf = data["workflow"][0] if isinstance(data["workflow"], list) and data["workflow"] else data["workflow"]
            self.where = f"{where}workflow."
            self.service = {"name": _text(data.get("name")).strip(), "desc": _text(data.get("desc")),
                            "service_type": self._service_type(data.get("key"))}
            for k in ("display_type", "display_role", "can_ticket_agency", "owners", "project_key"):
                if k in data:
                    self.service[k] = data[k]
        if not isinstance(wf, dict):
            raise BkExportError([f"{where}workflow: expected an object"])
        self.wf = wf
        self.key = key
        self.states = _by_id(wf.get("states"), "states", self.problems, self.where)
        self.transitions = _by_id(wf.get("transitions"), "transitions", self.problems, self.where)
        self.fields = _by_id(wf.get("fields"), "fields", self.problems, self.where)
        self.node_key: dict[str, str] = {}           # state id → our node key
        self.field_key: dict[str, str] = {}          # upstream field/variable key → our key
        self.field_type: dict[str, str] = {}

    # -- helpers --
    def note(self, where: str, message: str) -> None:
        self.notes.append(f"{self.where}{where}: {message}")

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.where}{where}: {message}")

    def _service_type(self, v: Any) -> str:
        text = _text(v).strip()
        text = SERVICE_TYPE_ALIASES.get(text, text)
        if text in SERVICE_TYPES:
            return text
        self.notes.append(f"key: service type {text!r} is not one of {', '.join(SERVICE_TYPES)}; imported as request")
        return "request"

    # -- the translation --
    def run(self) -> Translation:
        wf = self.wf
        name = _text(wf.get("name")).strip() or self.service.get("name") or "导入的流程"
        if not self.states:
            self.problem("states", "the workflow has no states")
        if not self.transitions:
            self.problem("transitions", "the workflow has no transitions")
        if self.problems:
            raise BkExportError(self.problems)
        extras = wf.get("extras") if isinstance(wf.get("extras"), dict) else {}
        own_key = _text(extras.get(OWN_KEY))
        flow: dict = {"key": _flow_key(name, self.key or own_key), "name": name[:128], "desc": _text(wf.get("desc")),
                      "service_type": self.service.get("service_type") or self._flow_type(wf.get("flow_type")),
                      "biz_related": bool(wf.get("is_biz_needed") or extras.get("biz_related"))}
        flow["notify"] = self._notify(wf)
        self._workflow_notes(wf)
        start_id, first_id = self._start()
        self._name_nodes(start_id, first_id)
        nodes = []
        for sid, state in self.states.items():
            if sid == start_id and first_id is not None:
                continue                                       # START is merged into the first state
            node = self._node(sid, state, is_start=(sid == first_id or (first_id is None and sid == start_id)))
            if node is not None:
                nodes.append(node)
        start_key = self.node_key[first_id or start_id] if (first_id or start_id) else None
        nodes.sort(key=lambda n: (n["kind"] != "start", n["kind"] == "end"))
        flow["nodes"] = nodes
        flow["transitions"] = self._transitions(start_id, first_id)
        self._fix_variables(flow, start_key)
        self._unused_fields()
        if self.problems:
            raise BkExportError(self.problems)
        return Translation(flow=flow, notes=self.notes, service=self.service)

    def _flow_type(self, v: Any) -> str:
        text = SERVICE_TYPE_ALIASES.get(_text(v), _text(v))
        return text if text in SERVICE_TYPES else "request"

    def _notify(self, wf: dict) -> dict:
        channels = []
        for i, item in enumerate(wf.get("notify") or []):
            kind = NOTIFY_IDS.get(item) if isinstance(item, int) else _text(item.get("type")) if isinstance(item, dict) \
                else _text(item)
            channel = NOTIFY_CHANNELS.get(kind or "")
            if channel is None:
                self.note(f"notify[{i}]", f"notice channel {kind or item!r} has no equivalent here; not carried over")
            elif channel not in channels:
                channels.append(channel)
        rule = _text(wf.get("notify_rule") or "ONCE")
        policy: dict = {"channels": channels or ["log"], "frequency": "once" if rule == "ONCE" else "daily"}
        if rule not in ("ONCE", ""):
            self.note("notify_rule", f"notify_rule {rule} (every {wf.get('notify_freq')} s) imported as a daily reminder")
        policy["supervise"] = bool(wf.get("is_supervise_needed"))
        stype, people = _text(wf.get("supervise_type") or "EMPTY"), _split(wf.get("supervisor"))
        if policy["supervise"]:
            if stype == "PERSON" and people:
                policy["supervisors"] = [{"type": "PERSON", "value": people}]
            elif stype in ("EMPTY", "STARTER", ""):
                policy["supervisors"] = [{"type": "STARTER"}]
            else:
                policy["supervisors"] = [{"type": "STARTER"}]
                self.note("supervise_type", f"supervisors of type {stype} ({','.join(people)}) are not carried over; "
                                            "the creator supervises")
        else:
            policy["supervisors"] = []
        return policy

    def _workflow_notes(self, wf: dict) -> None:
        if wf.get("triggers"):
            self.note("triggers", f"{len(wf['triggers'])} trigger(s) (触发器) are not carried over")
        if wf.get("task_schemas"):
            self.note("task_schemas", f"{len(wf['task_schemas'])} task template(s) (任务) are not carried over")
        if wf.get("is_task_needed"):
            self.note("is_task_needed", "node tasks (任务) are not carried over")
        if wf.get("is_revocable") is False:
            self.note("is_revocable", "withdrawal cannot be switched off here: the creator may withdraw until someone "
                                      "else has acted")
        revoke = wf.get("revoke_config")
        if isinstance(revoke, dict) and revoke.get("type") not in (None, 2):
            self.note("revoke_config", f"withdraw rule type {revoke.get('type')} is not carried over: here the creator "
                                       "may withdraw until someone else has acted (type 2)")
        if wf.get("is_auto_approve"):
            self.note("is_auto_approve", "automatic approval of an approver who already approved is not carried over")
        if wf.get("is_iam_used"):
            self.note("is_iam_used", "IAM permission checks on the flow are not carried over")

    def _start(self) -> tuple[str | None, str | None]:
        starts = [sid for sid, s in self.states.items() if s.get("type") == "START"]
        ends = [sid for sid, s in self.states.items() if s.get("type") == "END"]
        if len(starts) != 1:
            self.problem("states", f"a workflow needs exactly one START state, found {len(starts)}")
            raise BkExportError(self.problems)
        if not ends:
            self.problem("states", "a workflow needs an END state")
        start = starts[0]
        out = [t for t in self.transitions.values() if _text(t.get("from_state")) == start]
        firsts = [sid for sid, s in self.states.items() if s.get("is_first_state")]
        target = _text(out[0].get("to_state")) if len(out) == 1 else None
        first = firsts[0] if len(firsts) == 1 else target
        if first is not None and (first != target or self.states.get(first, {}).get("type") != "NORMAL"):
            first = None
        if first is None:
            self.note(f"states.{start}", "the START state is not followed by one 提单 (NORMAL) state: the ticket form "
                                         "is empty and the ticket starts at the START state's successor")
        return start, first

    def _name_nodes(self, start_id: str | None, first_id: str | None) -> None:
        used: set[str] = set()
        for sid, state in self.states.items():
            extras = state.get("extras") if isinstance(state.get("extras"), dict) else {}
            own = _text(extras.get(OWN_KEY))
            if sid == start_id and first_id is None:
                candidate = own or "start"
            elif state.get("type") == "END":
                candidate = own or f"end_{sid}"
            else:
                candidate = own or f"state_{sid}"
            if not KEY_RE.match(candidate) or candidate in used:
                candidate = f"state_{sid}"
            used.add(candidate)
            self.node_key[sid] = candidate

    def _node(self, sid: str, state: dict, *, is_start: bool) -> dict | None:
        where = f"states.{sid}"
        stype = _text(state.get("type"))
        name = _text(state.get("name")).strip() or GATEWAY_NAMES.get(stype) or stype or sid
        key = self.node_key[sid]
        if is_start:
            node: dict = {"key": key, "name": name, "kind": "start"}
        elif stype in STATE_KINDS:
            node = {"key": key, "name": name, "kind": STATE_KINDS[stype]}
        elif stype == "WEBHOOK" and isinstance((state.get("extras") or {}).get("webhook_info"), dict):
            node = {"key": key, "name": name, "kind": "automation", "plugin": "http_webhook",
                    "_webhook": state["extras"]["webhook_info"]}       # translated once every field key is known
        elif stype in AUTOMATIC_STATES:
            node = {"key": key, "name": name, "kind": "manual"}
            self.note(where, f"{stype} node 「{name}」 is imported as a manual node: its automatic work (API call, "
                             "standard-ops task, pipeline, webhook, plugin) is not carried over")
        elif stype in GATEWAYS:
            kind = GATEWAYS[stype]
            if kind not in NODE_KINDS:
                self.problem(where, f"{stype} gateway 「{name}」 cannot be imported: parallel/converge gateways are "
                                    "not supported by this version")
                return None
            node = {"key": key, "name": name, "kind": kind}
        elif stype == "START":
            node = {"key": key, "name": name, "kind": "start"}
        else:
            self.problem(where, f"unknown state type {stype!r} (expected START, NORMAL, APPROVAL, SIGN, TASK, "
                                "ROUTER-P, COVERAGE, END)")
            return None
        axis = state.get("axis")
        if isinstance(axis, dict) and all(isinstance(axis.get(c), (int, float)) and not isinstance(axis.get(c), bool)
                                          for c in ("x", "y")):
            node["layout"] = {"x": axis["x"], "y": axis["y"]}       # where BlueKing's canvas drew it: ours too
        if _text(state.get("desc")):
            node["desc"] = _text(state["desc"])
        kind = node["kind"]
        extras = state.get("extras") if isinstance(state.get("extras"), dict) else {}
        status = extras.get("ticket_status") if isinstance(extras.get("ticket_status"), dict) else {}
        if status.get("type") == "custom" and status.get("name"):
            self.note(where, f"the custom ticket status {status['name']!r} shown at this node is not carried over")
        if kind in ("end", "parallel", "converge"):
            return node
        if kind != "start":
            spec = self._processors(where, kind, state.get("processors_type"), state.get("processors"))
            if spec is not None:
                node["processors"] = spec
        distribute = _text(state.get("distribute_type") or "PROCESS")
        if kind in ("manual",) and distribute != "PROCESS":
            if distribute not in ("CLAIM_THEN_PROCESS", "DISTRIBUTE_THEN_PROCESS", "DISTRIBUTE_THEN_CLAIM"):
                self.problem(where, f"unknown distribute_type {distribute!r}")
            else:
                node["distribute_type"] = distribute
                if distribute.startswith("DISTRIBUTE"):
                    assignors = self._processors(f"{where}.assignors", kind, state.get("assignors_type"),
                                                 state.get("assignors"))
                    if assignors is not None:
                        node["assignors"] = assignors
                    if node.get("processors", {}).get("type") in (None, "EMPTY"):
                        node["processors"] = {"type": "BY_ASSIGNOR"}
        elif kind != "start" and distribute != "PROCESS":
            self.note(where, f"distribute_type {distribute} does not apply to a {kind} node: processed directly")
        if state.get("can_deliver"):
            if kind == "manual":
                node["can_deliver"] = True
            elif kind != "start":
                self.note(where, f"转单 (can_deliver) is not available on {kind} nodes; not carried over")
        if state.get("is_terminable") and kind != "start":
            node["can_terminate"] = True
        if state.get("is_allow_skip"):
            self.note(where, "skipping the node when its processors are empty (is_allow_skip) is not carried over")
        if kind == "approval":
            self._approval(where, state, node)
        elif kind == "sign":
            fc = state.get("finish_condition")
            if isinstance(fc, dict) and fc.get("expressions"):
                self.note(where, "the sign node's finish condition is not carried over: it finishes when every "
                                 "processor has submitted")
        node_fields = self._node_fields(where, state, node)
        if node_fields:
            node["fields"] = node_fields
        return node

    def _processors(self, where: str, kind: str, ptype: Any, value: Any) -> dict | None:
        ptype = _text(ptype or "EMPTY")
        people = _split(value)
        if ptype in ("EMPTY", ""):
            if kind in ("start", "automation"):         # an automatic node's processors only retry or skip it
                return None
            self.problem(where, "processors_type is EMPTY: this node would have no processors")
            return None
        if ptype == "OPEN":
            self.problem(where, "processors OPEN (anyone) is allowed on the first node only here")
            return None
        if ptype not in PROCESSOR_TYPES:
            self.problem(where, f"processors_type {ptype} is not supported here (supported: {', '.join(PROCESSOR_TYPES)})")
            return None
        if ptype in PROCESSOR_TYPES_WITHOUT_VALUE:
            return {"type": ptype}
        if not people:
            self.problem(where, f"processors_type {ptype} names nobody (processors is empty)")
            return None
        if ptype == "GENERAL":
            self.note(where, f"GENERAL roles {','.join(people)} are upstream role ids: a role with each of these keys "
                             "must exist before the flow can be deployed")
        return {"type": ptype, "value": people}

    def _approval(self, where: str, state: dict, node: dict) -> None:
        for out in (state.get("variables") or {}).get("outputs") or []:
            code = (out.get("meta") or {}).get("code") if isinstance(out, dict) else None
            if code in APPROVAL_VARIABLES and out.get("key"):
                self.field_key[_text(out["key"])] = f"{node['key']}_{APPROVAL_VARIABLES[code]}"
        if state.get("is_multi"):
            node["multi"] = True
            if state.get("is_sequential"):
                node["sequential"] = True
            agree = self._agree(where, state)
            if agree is not None:
                node["finish_condition"] = {"agree": agree}
        elif state.get("is_sequential"):
            self.note(where, "is_sequential without is_multi means nothing here; ignored")

    def _agree(self, where: str, state: dict) -> Any:
        fc = state.get("finish_condition") if isinstance(state.get("finish_condition"), dict) else {}
        leaves = _leaves(fc)
        if not leaves:
            return None
        codes = {}
        for out in (state.get("variables") or {}).get("outputs") or []:
            if isinstance(out, dict):
                codes[_text(out.get("key"))] = (out.get("meta") or {}).get("code")
        if len(leaves) == 1:
            leaf = leaves[0]
            code = codes.get(_text(leaf.get("key"))) or (leaf.get("meta") or {}).get("code") or _text(leaf.get("key"))
            op, value = _text(leaf.get("condition")), leaf.get("value")
            try:
                number = int(float(value))
            except (TypeError, ValueError):
                number = None
            if number is not None and op in (">=", ">"):
                number += op == ">"
                if code == "REJECT_COUNT" and number == 1:
                    return None              # finished by the first rejection (or when all agree): our "all"
                if code == "PASS_COUNT" and number >= 1:
                    return number
                if code == "PASS_RATE" and 1 <= number <= 100:
                    return f"{number}%"
        self.note(where, f"the countersign's finish condition {json.dumps(fc, ensure_ascii=False)} has no equivalent; "
                         "every approver must agree")
        return None

    def _node_fields(self, where: str, state: dict, node: dict) -> list[dict]:
        out = []
        ids = state.get("fields") or []
        if not isinstance(ids, list):
            self.problem(f"{where}.fields", "expected a list of field ids")
            return []
        for fid in ids:
            f = self.fields.get(_text(fid))
            if f is None:
                self.problem(f"{where}.fields", f"field id {fid} is not in the workflow's fields")
                continue
            f["_used"] = True
            if node["kind"] == "approval" and self._is_decision_field(f):
                self.field_key[_text(f.get("key"))] = f"{node['key']}_result" if (f.get("meta") or {}).get("code") == \
                    "APPROVE_RESULT" else f"{node['key']}_remark"
                continue
            if node["kind"] == "end":
                self.note(f"fields.{fid}", "an END state's fields are not carried over")
                continue
            converted = self._field(f"fields.{fid}", f)
            if converted is not None:
                if any(c["key"] == converted["key"] for c in out) or converted["key"] in self.field_type:
                    self.note(f"fields.{fid}", f"field {converted['key']!r} appears on more than one node: kept on the "
                                               "first only")
                    continue
                self.field_type[converted["key"]] = converted["type"]
                out.append(converted)
        return out

    @staticmethod
    def _is_decision_field(f: dict) -> bool:
        code = (f.get("meta") or {}).get("code")
        return code == "APPROVE_RESULT" or (f.get("name") == "备注" and f.get("type") == "TEXT"
                                            and bool(f.get("show_conditions")))

    def _field(self, where: str, f: dict) -> dict | None:
        ukey = _text(f.get("key"))
        key = ukey if KEY_RE.match(ukey) else f"f_{re.sub(r'[^A-Za-z0-9_]', '_', ukey)}"
        if key != ukey:
            self.note(where, f"field key {ukey!r} is not an identifier here; renamed {key!r}")
        self.field_key[ukey] = key
        ftype = _text(f.get("type"))
        name = _text(f.get("name")).strip() or key
        out: dict = {"key": key, "name": name}
        if ftype == "INPUTSELECT":
            ftype = "SELECT"
            self.note(where, "INPUTSELECT (free text or a choice) is imported as SELECT")
        if ftype not in FIELD_TYPES:
            self.note(where, f"field type {ftype!r} has no equivalent; imported as TEXT")
            ftype = "TEXT"
        choices = [{"key": _text(c.get("key")), "name": _text(c.get("name")) or _text(c.get("key"))}
                   for c in (f.get("choice") if isinstance(f.get("choice"), list) else []) if isinstance(c, dict)
                   and _text(c.get("key"))]
        source_type = _text(f.get("source_type") or "CUSTOM")
        if source_type == "DATADICT" and f.get("source_uri"):
            out["source"] = {"dictionary": _text(f["source_uri"])}
            choices = []
        elif source_type in ("API", "RPC", "CUSTOM_API"):
            if ftype in ("SELECT", "MULTISELECT", "CHECKBOX", "RADIO", "TREESELECT", "CASCADE", "INPUTSELECT"):
                self.note(where, f"choices from {source_type} {f.get('source_uri') or f.get('api_instance_id') or ''} "
                                 f"(kv_relation {f.get('kv_relation') or {}}) are not carried over: "
                                 f"field 「{name}」 becomes a text input")
                ftype, choices = "STRING", []
        if ftype in ("SELECT", "MULTISELECT", "RADIO", "TREESELECT", "CASCADE") and not choices and "source" not in out:
            self.note(where, f"{ftype} field 「{name}」 has no choices: imported as a text input")
            ftype = "STRING"
        if ftype in ("TABLE", "CUSTOMTABLE"):
            self.note(where, f"{ftype} columns are not carried over: field 「{name}」 becomes a text area")
            ftype = "TEXT"
        out["type"] = ftype
        if choices:
            out["choices"] = choices
        if _text(f.get("validate_type")) == "REQUIRE":
            out["required"] = True
        regex = _text(f.get("regex") or "EMPTY")
        if regex == "CUSTOM" and _text(f.get("custom_regex")):
            pattern = _text(f["custom_regex"])
            try:
                re.compile(pattern)
                out["regex"] = pattern
            except re.error:
                self.note(where, f"custom_regex {pattern!r} does not compile here; not carried over")
        elif regex in REGEX_RULES:
            out["regex"] = REGEX_RULES[regex]
        elif regex not in ("EMPTY", "", "CUSTOM"):
            self.note(where, f"regex rule {regex} has no equivalent; not carried over")
        if f.get("layout") in LAYOUTS and LAYOUTS[f["layout"]] != "full":
            out["layout"] = LAYOUTS[f["layout"]]
        if _text(f.get("desc")):
            out["desc"] = _text(f["desc"])
        default = f.get("default")
        if default not in (None, "", [], {}) and ftype not in ("FILE",):
            if choices and ftype in ("SELECT", "RADIO") and _text(default) not in {c["key"] for c in choices}:
                self.note(where, f"default {default!r} is not one of the choices; not carried over")
            else:
                out["default"] = default
        if f.get("is_readonly"):
            out["read_only"] = True
        rely = (f.get("related_fields") or {}).get("rely_on") if isinstance(f.get("related_fields"), dict) else None
        if rely:
            self.note(where, f"field 「{name}」 is computed from {', '.join(map(str, rely))} upstream (related_fields); "
                             "here it is a plain field")
        if _text(f.get("show_type")) == "0" and f.get("show_conditions"):
            out["_hide_when"] = f["show_conditions"]        # resolved once every field key is known
        return out

    def _fix_variables(self, flow: dict, start_key: str | None) -> None:
        """Second pass: hide conditions (they may name later fields) and VARIABLE processors."""
        fields_here = {f["key"]: f["type"] for n in flow["nodes"] for f in n.get("fields", [])}
        for node in flow["nodes"]:
            info = node.pop("_webhook", None)
            if info is not None:
                node["params"] = _Webhook(self, f"states.{node['key'].rpartition('_')[2]}").params(info)
            for f in node.get("fields", []):
                raw = f.pop("_hide_when", None)
                if raw is not None:
                    cond = self.condition(f"fields.{f['key']}.show_conditions", raw)
                    if cond is not None:
                        f["hide_when"] = cond
            spec = node.get("processors")
            if spec and spec["type"] == "VARIABLE":
                keep = []
                for ref in spec["value"]:
                    mine = self.field_key.get(ref, ref)
                    if fields_here.get(mine) in ("MEMBER", "MEMBERS"):
                        keep.append(mine)
                    else:
                        self.note(f"states.{node['key'].rpartition('_')[2]}", f"VARIABLE processor field {ref!r} is not a people field of "
                                                           "this workflow; left out")
                if keep:
                    spec["value"] = keep
                else:
                    self.problem(f"states.{node['key'].rpartition('_')[2]}", "none of the VARIABLE processor fields exist in this workflow")

    def _unused_fields(self) -> None:
        for fid, f in self.fields.items():
            if not f.pop("_used", False):
                self.note(f"fields.{fid}", f"field {f.get('key')!r} 「{f.get('name')}」 belongs to no state; "
                                           "not carried over")

    def _transitions(self, start_id: str | None, first_id: str | None) -> list[dict]:
        out = []
        for tid, t in self.transitions.items():
            where = f"transitions.{tid}"
            a, b = _text(t.get("from_state")), _text(t.get("to_state"))
            if a not in self.states or b not in self.states:
                self.problem(where, f"transition between unknown states {a!r} → {b!r}")
                continue
            if a == start_id and first_id is not None:
                continue
            if b == start_id:
                b = first_id or start_id
            item: dict = {"from": self.node_key[a], "to": self.node_key[b]}
            if _text(t.get("name")):
                item["name"] = _text(t["name"])
            cond = None if _text(t.get("condition_type")) == "default" else self.condition(where + ".condition",
                                                                                            t.get("condition"))
            if cond is not None:
                item["when"] = cond
            out.append(item)
        return out

    # -- conditions --
    def condition(self, where: str, raw: Any) -> dict | None:
        if raw in (None, {}, []):
            return None
        if not isinstance(raw, dict):
            self.problem(where, f"expected {{type, expressions}}, got {raw!r}")
            return None
        return self._cond(where, raw)

    def _cond(self, where: str, raw: dict) -> dict | None:
        if "expressions" in raw:
            parts = [c for c in (self._cond(where, e) for e in raw.get("expressions") or [] if isinstance(e, dict))
                     if c is not None]
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            kind = _text(raw.get("type") or "and").lower()
            if kind not in ("and", "or"):
                self.problem(where, f"unknown expression type {kind!r} (and, or)")
                return None
            return {"all" if kind == "and" else "any": parts}
        key, op, value = _text(raw.get("key")), _text(raw.get("condition")), raw.get("value")
        if key == ALWAYS_KEY:
            return None
        if op not in OPS and op != "notissuperset":
            self.problem(where, f"unknown condition operator {op!r}")
            return None
        mine = self.field_key.get(key)
        if mine is None:
            code = (raw.get("meta") or {}).get("code") if isinstance(raw.get("meta"), dict) else None
            self.problem(where, f"condition key {key!r}{f' ({code})' if code else ''} is neither a field nor an "
                                "approval result of this workflow")
            return None
        if op in ("in", "notin", "issuperset", "notissuperset") and isinstance(value, str):
            value = _split(value)
        if op == "notissuperset":
            return {"not": {"field": mine, "op": "contains", "value": value}}
        return {"field": mine, "op": OPS[op], "value": value}


# upstream's ticket variables in webhook templates (itsm/component/constants/basic.py TICKET_GLOBAL_VARIABLES) → ours
VARIABLE_NAMES = {"NODE_APPROVE_RESULT": "审批结果", "NODE_APPROVER": "审批人", "PROCESS_COUNT": "处理人数",
                  "PASS_COUNT": "通过人数", "REJECT_COUNT": "拒绝人数", "PASS_RATE": "通过率", "REJECT_RATE": "拒绝率"}
TICKET_VARIABLES = {"ticket_sn": "sn", "ticket_title": "title", "ticket_creator": "creator",
                    "ticket_create_at": "created_at", "ticket_service_type": "service_type",
                    "ticket_current_status": "current_status", "ticket_ticket_url": "url"}
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SUCCESS_RE = re.compile(r"^\s*resp((?:\.[A-Za-z0-9_]+)+)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$")


class _Webhook:
    """A WEBHOOK state's `extras.webhook_info` (itsm/pipeline_plugins/components/collections/webhook.py) as the
    `http_webhook` plugin's params: url, method, query, headers (auth included), JSON body, timeout, success."""

    def __init__(self, importer: "_Importer", where: str):
        self.importer, self.where = importer, where

    def note(self, message: str) -> None:
        self.importer.note(self.where, message)

    def template(self, text: Any) -> str:
        """Upstream's flat `{{ticket_sn}}` / `{{FIELD}}` placeholders as ours (`{{ ticket.sn }}`, `{{ fields.X }}`)."""
        def one(m: re.Match) -> str:
            name = m.group(1)
            if name in TICKET_VARIABLES:
                return "{{ ticket.%s }}" % TICKET_VARIABLES[name]
            mine = self.importer.field_key.get(name)
            if mine is None:
                self.note(f"webhook variable {name!r} is neither a ticket variable nor a field here; it is sent empty")
                return ""
            return "{{ fields.%s }}" % mine
        return PLACEHOLDER_RE.sub(one, _text(text))

    def params(self, info: dict) -> dict:
        params: dict = {"method": _text(info.get("method") or "GET").upper(), "url": self.template(info.get("url"))}
        query = {_text(q.get("key")): self.template(q.get("value")) for q in info.get("query_params") or []
                 if isinstance(q, dict) and _text(q.get("key"))}
        headers = {_text(h.get("key")): self.template(h.get("value")) for h in info.get("headers") or []
                   if isinstance(h, dict) and _text(h.get("key"))}
        headers.update(self.auth(info.get("auth")))
        if query:
            params["query"] = query
        if headers:
            params["headers"] = headers
        body = self.body(info.get("body"))
        if body is not None:
            params["body"] = body
        timeout = (info.get("settings") or {}).get("timeout") if isinstance(info.get("settings"), dict) else None
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            params["timeout"] = timeout
        success = self.success(_text(info.get("success_exp")))
        if success is not None:
            params["success"] = success
        outputs = [o for o in ((info.get("variables") or {}).get("outputs") or []) if isinstance(o, dict)] \
            if isinstance(info.get("variables"), dict) else []
        if outputs:
            self.note(f"{len(outputs)} webhook output variable(s) are not carried over")
        return params

    def auth(self, auth: Any) -> dict:
        auth = auth if isinstance(auth, dict) else {}
        kind, config = _text(auth.get("auth_type") or "none"), auth.get("auth_config") or {}
        if kind == "bearer_token" and _text(config.get("token")):
            return {"Authorization": f"Bearer {self.template(config['token'])}"}
        if kind == "basic_auth" and _text(config.get("username")):
            pair = f"{_text(config.get('username'))}:{_text(config.get('password'))}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if kind not in ("none", "bearer_token", "basic_auth", ""):
            self.note(f"webhook auth type {kind!r} is not carried over")
        return {}

    def body(self, body: Any) -> Any:
        body = body if isinstance(body, dict) else {}
        kind, content = _text(body.get("type") or "none"), body.get("content")
        if kind == "none" or content in (None, ""):
            return None
        if kind in ("form-data", "x-www-form-urlencoded") and isinstance(content, list):
            self.note(f"the {kind} webhook body is sent as a JSON object")
            return {_text(c.get("key")): self.template(c.get("value")) for c in content if isinstance(c, dict)}
        text = self.template(content)
        if _text(body.get("raw_type")).upper() == "JSON":
            for candidate in (text, re.sub(r'(?<!")(\{\{[^}]*\}\})(?!")', r'"\1"', text)):
                try:
                    return json.loads(candidate)
                except ValueError:
                    continue
            self.note("the webhook's JSON body does not parse; it is sent as a JSON string")
        else:
            self.note(f"the webhook's {body.get('raw_type') or kind} body is sent as a JSON string")
        return text

    def success(self, expression: str) -> dict | None:
        """`resp.data.code==0` (upstream's BoolRule on `{resp: <JSON answer>}`) as a condition on the answer."""
        if not expression.strip():
            return None
        m = SUCCESS_RE.match(expression)
        if m is None:
            self.note(f"the webhook success rule {expression!r} is not carried over: HTTP 2xx counts as success")
            return None
        raw = m.group(3)
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            value: Any = raw[1:-1]
        else:
            try:
                value = json.loads({"True": "true", "False": "false", "None": "null"}.get(raw, raw))
            except ValueError:
                value = raw
        return {"field": m.group(1)[1:], "op": m.group(2), "value": value}


def _leaves(raw: Any) -> list[dict]:
    if not isinstance(raw, dict):
        return []
    if "expressions" in raw:
        return [leaf for e in raw.get("expressions") or [] for leaf in _leaves(e)]
    return [raw] if raw.get("key") else []


# --- export ----------------------------------------------------------------------------------

ALWAYS = {"expressions": [{"type": "and", "expressions": [{"key": ALWAYS_KEY, "condition": "==", "value": 1}]}],
          "type": "and"}


def to_bk(flow: FlowDef) -> tuple[dict, list[str]]:
    """Our flow as a BlueKing workflow export (one element of its export list) + what it cannot express."""
    return _Exporter(flow).run()


def to_bk_service(flow: FlowDef, *, name: str = "", desc: str = "") -> tuple[dict, list[str]]:
    """The `import_service` body BlueKing's callers send: `{key: <service type>, name, desc, workflow}`."""
    workflow, notes = to_bk(flow)
    return ({"key": flow.service_type, "name": name or flow.name, "desc": desc or flow.desc, "workflow": workflow,
             "owners": "", "can_ticket_agency": False, "is_valid": True, "display_type": "OPEN", "display_role": "",
             "source": "custom", "project_key": "0"}, notes)


class _Exporter:
    def __init__(self, flow: FlowDef):
        self.flow = flow
        self.notes: list[str] = []
        self.state_ids: dict[str, int] = {}
        self.fields: dict[str, dict] = {}
        self.next_field = 1

    def run(self) -> tuple[dict, list[str]]:
        flow = self.flow
        start_id = 1
        for i, node in enumerate(flow.nodes, start=2):
            self.state_ids[node.key] = i
        states = {str(start_id): self._state_base(start_id, "开始", "START") | {"processors_type": "OPEN"}}
        for node in flow.nodes:
            states[str(self.state_ids[node.key])] = self._state(node)
        transitions = {"1": {"id": 1, "from_state": start_id, "to_state": self.state_ids[flow.start.key], "name": "",
                             "condition_type": "default", "condition": ALWAYS}}
        for i, t in enumerate(flow.transitions, start=2):
            cond = self.condition(t.when, f"transitions[{i - 2}]")
            transitions[str(i)] = {"id": i, "from_state": self.state_ids[t.from_], "to_state": self.state_ids[t.to],
                                   "name": t.name, "condition_type": "by_field" if cond else "default",
                                   "condition": cond or ALWAYS}
        notify = flow.notify
        ids = [CHANNEL_NOTIFY[c] for c in notify.channels if c in CHANNEL_NOTIFY] if notify.enabled else []
        for c in notify.channels:
            if c not in CHANNEL_NOTIFY:
                self.notes.append(f"notify.channels: {c} has no BlueKing equivalent; left out")
        supervisors = [s for s in notify.supervisors if s.type == "PERSON"]
        workflow = {
            "name": flow.name, "desc": flow.desc, "flow_type": "other", "is_enabled": True, "is_revocable": True,
            "revoke_config": {"type": 2, "state": 0}, "is_draft": False, "is_builtin": False,
            "is_task_needed": False, "owners": "", "notify_rule": "ONCE" if notify.frequency == "once" else "RETRY",
            "notify_freq": 0 if notify.frequency == "once" else 86400, "is_biz_needed": flow.biz_related,
            "is_auto_approve": False, "is_iam_used": False, "is_supervise_needed": notify.supervise,
            "supervise_type": "PERSON" if supervisors else "EMPTY",
            "supervisor": ",".join(p for s in supervisors for p in s.value), "engine_version": "PIPELINE_V1",
            "version_number": "", "table": {"name": "默认", "desc": "", "version": "EMPTY", "fields": []},
            "task_schemas": [], "creator": "", "updated_by": "", "workflow_id": 0, "version_message": "",
            "states": states, "transitions": transitions, "triggers": [], "fields": self.fields, "notify": ids,
            "extras": {OWN_KEY: flow.key, "biz_related": flow.biz_related, "task_settings": []},
        }
        return workflow, self.notes

    @staticmethod
    def _state_base(sid: int, name: str, stype: str) -> dict:
        return {"id": sid, "key": sid, "name": name, "desc": "", "type": stype, "distribute_type": "PROCESS",
                "axis": {"x": 150 * sid, "y": 150}, "is_builtin": stype in ("START", "END"),
                "variables": {"inputs": [], "outputs": []}, "tag": "DEFAULT", "processors_type": "OPEN",
                "processors": "", "assignors": "", "assignors_type": "EMPTY", "delivers": "", "delivers_type": "EMPTY",
                "can_deliver": False, "extras": {}, "is_draft": False, "is_terminable": False, "fields": [],
                "api_instance_id": 0, "is_sequential": False, "finish_condition": {}, "is_multi": False,
                "is_allow_skip": False, "is_first_state": False}

    def _state(self, node: NodeDef) -> dict:
        sid = self.state_ids[node.key]
        state = self._state_base(sid, node.name, KIND_STATES.get(node.kind, "NORMAL"))
        state["desc"], state["extras"] = node.desc, {OWN_KEY: node.key}
        if node.layout is not None:
            state["axis"] = {"x": node.layout.x, "y": node.layout.y}
        where = f"nodes.{node.key}"
        if node.kind == "start":
            state["is_first_state"] = True
            if node.processors is not None and node.processors.type != "OPEN":
                self.notes.append(f"{where}: who may submit ({node.processors.type}) is not part of a BlueKing export")
        elif node.kind != "end":
            spec = node.effective_processors
            state["processors_type"], state["processors"] = spec.type, ",".join(spec.value)
            if node.assignors is not None:
                state["assignors_type"], state["assignors"] = node.assignors.type, ",".join(node.assignors.value)
            state["distribute_type"] = node.distribute_type
            state["can_deliver"], state["is_terminable"] = node.can_deliver, node.can_terminate
            if node.can_deliver:
                state["delivers_type"] = "OPEN"
        if node.kind == "automation" and node.plugin == "http_webhook":
            state["type"], state["extras"]["webhook_info"] = "WEBHOOK", _webhook_info(node.params)
            left = [k for k in ("secret", "response") if node.params.get(k)]
            if node.params.get("success") and not state["extras"]["webhook_info"]["success_exp"]:
                left.append("success")
            if left:
                self.notes.append(f"{where}: the webhook's {', '.join(left)} cannot be written in a BlueKing "
                                  "WEBHOOK state; left out")
        elif node.kind in ("api", "automation"):
            self.notes.append(f"{where}: the {node.kind} node's work ({node.api or node.plugin}) has no BlueKing "
                              "export form; exported as a TASK state without it")
        if node.kind == "approval":
            self._approval(node, state)
        if node.kind == "sign":
            state["is_multi"] = True
            if node.finish_when is not None:
                self.notes.append(f"{where}: the sign node's finish_when is not exported (BlueKing sign nodes finish "
                                  "when everyone has submitted)")
        for f in node.fields:
            if node.kind == "approval" and f.key in {b.key for b in node.builtin_fields}:
                continue
            state["fields"].append(self._field(f, sid, where))
        return state

    def _approval(self, node: NodeDef, state: dict) -> None:
        sid = state["id"]
        result, remark = node.result_key, node.remark_key
        outputs = []
        for code, key in node.approval_variables().items():      # upstream's APPROVAL_VARIABLES + SIGN_VARIABLES
            meta: dict = {"code": code}
            if code == "NODE_APPROVE_RESULT":
                meta.update({"type": "SELECT", "choice": [{"key": REJECT, "name": "拒绝"}, {"key": APPROVE, "name": "通过"}]})
            elif code.endswith("_RATE"):
                meta["unit"] = "PERCENT"
            outputs.append({"source": "global", "state": sid, "type": "STRING" if code.startswith("NODE_") else "INT",
                            "key": key, "name": VARIABLE_NAMES[code], "meta": meta})
        state["is_multi"], state["is_sequential"] = node.multi, node.sequential
        agree = node.finish_condition.agree if node.finish_condition else "all"
        if node.multi and agree != "all":
            code = "PASS_COUNT" if isinstance(agree, int) else "PASS_RATE"
            okey = node.approval_variables()[code]
            state["finish_condition"] = {"type": "or", "expressions": [
                {"key": okey, "condition": ">=", "value": agree if isinstance(agree, int) else int(agree[:-1]),
                 "meta": {"code": code}}]}
        elif node.multi:
            state["finish_condition"] = {"type": "or", "expressions": []}
        state["variables"]["outputs"] = outputs
        decision = self._new_field(sid, {
            "key": result, "name": "审批意见", "type": "RADIO", "validate_type": "REQUIRE", "default": APPROVE,
            "choice": [{"key": APPROVE, "name": "通过"}, {"key": REJECT, "name": "拒绝"}], "layout": "COL_6",
            "meta": {"code": "APPROVE_RESULT"}})
        note = self._new_field(sid, {
            "key": remark, "name": "备注", "type": "TEXT", "validate_type": "OPTION", "show_type": 0,
            "show_conditions": {"type": "and", "expressions": [{"key": result, "condition": "==", "value": APPROVE,
                                                                "type": "RADIO"}]}})
        state["fields"] += [decision, note]

    def _new_field(self, sid: int, values: dict) -> int:
        fid = self.next_field
        self.next_field += 1
        base = {"id": fid, "is_deleted": False, "is_builtin": False, "is_readonly": False, "is_valid": True,
                "display": True, "source_type": "CUSTOM", "source_uri": "", "api_instance_id": 0, "kv_relation": {},
                "type": "STRING", "key": "", "name": "", "layout": "COL_12", "validate_type": "OPTION",
                "show_type": 1, "show_conditions": {}, "regex": "EMPTY", "regex_config": {}, "custom_regex": "",
                "desc": "", "tips": "", "is_tips": False, "default": "", "choice": [], "related_fields": {},
                "meta": {}, "workflow_id": 0, "state_id": sid, "source": "CUSTOM"}
        base.update(values)
        self.fields[str(fid)] = base
        return fid

    def _field(self, f: FieldDef, sid: int, where: str) -> int:
        values: dict = {"key": f.key, "name": f.name, "type": f.type,
                        "validate_type": "REQUIRE" if f.required else "OPTION",
                        "layout": "COL_6" if f.layout == "half" else "COL_12", "desc": f.desc,
                        "is_readonly": f.read_only, "choice": [{"key": c.key, "name": c.name} for c in f.choices]}
        if f.default is not None:
            values["default"] = f.default
        if f.regex:
            rule = RULE_OF_PATTERN.get(f.regex)
            values.update({"regex": rule} if rule else {"regex": "CUSTOM", "custom_regex": f.regex})
        if f.source is not None:
            if f.source.dictionary:
                values.update({"source_type": "DATADICT", "source_uri": f.source.dictionary})
            else:
                values.update({"source_type": "API", "source_uri": f.source.api})
                self.notes.append(f"{where}.fields.{f.key}: API-sourced choices ({f.source.api}) need an API "
                                  "instance on the BlueKing side; only its key is exported")
        if f.columns:
            values["meta"] = {"columns": [c.model_dump(mode="json") for c in f.columns]}
            self.notes.append(f"{where}.fields.{f.key}: table columns are kept in meta.columns, which BlueKing "
                              "does not read")
        if f.hide_when is not None:
            cond = self.condition(f.hide_when, f"{where}.fields.{f.key}.hide_when")
            if cond:
                values.update({"show_type": 0, "show_conditions": cond})
        if f.max_length or f.regex_message:
            self.notes.append(f"{where}.fields.{f.key}: max_length / regex_message have no BlueKing field setting")
        return self._new_field(sid, values)

    # -- conditions: disjunctive normal form, upstream's two levels (or of and-groups of leaves) --
    def condition(self, cond: Any, where: str) -> dict | None:
        if cond is None:
            return None
        terms = _dnf(cond, False)
        if len(terms) > 64:
            self.notes.append(f"{where}: the condition is too large to write in BlueKing's two-level form; "
                              "it is exported as its first 64 alternatives")
            terms = terms[:64]
        groups = [{"type": "and", "expressions": [self._leaf(c, neg) for c, neg in term]} for term in terms]
        return {"type": "and" if len(groups) == 1 else "or", "expressions": groups}

    def _leaf(self, c: Compare, negate: bool) -> dict:
        op = {"contains": "issuperset"}.get(c.op, c.op)
        if negate:
            op = NEGATED[op]
        value = c.value
        if op in ("issuperset", "notissuperset") and not isinstance(value, (list, tuple)):
            value = [value]
        try:
            ftype = self.flow.field(c.field).type
        except KeyError:
            ftype = "STRING"
        return {"key": c.field, "condition": op, "value": list(value) if isinstance(value, tuple) else value,
                "type": ftype, "source": "field"}


def _bk_template(text: Any) -> str:
    """Our `{{ ticket.sn }}` / `{{ fields.X }}` placeholders in upstream's flat form (`{{ticket_sn}}`, `{{X}}`)."""
    ours = {v: k for k, v in TICKET_VARIABLES.items()}

    def one(m: re.Match) -> str:
        scope, name = m.group(1), m.group(2)
        if scope == "ticket":
            return "{{%s}}" % ours.get(name, f"ticket_{name}")
        return "{{%s}}" % name
    return re.sub(r"\{\{\s*(ticket|fields)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", one, _text(text))


def _webhook_info(params: dict) -> dict:
    """An http_webhook node's params as a WEBHOOK state's `extras.webhook_info`."""
    body = params.get("body")
    content = _bk_template(json.dumps(body, ensure_ascii=False, indent=4) if not isinstance(body, str) else body)
    info: dict = {"method": _text(params.get("method") or "POST").upper(), "url": _bk_template(params.get("url")),
                  "query_params": [{"key": k, "value": _bk_template(v)} for k, v in (params.get("query") or {}).items()],
                  "auth": {"auth_type": "none", "auth_config": {}},
                  "headers": [{"key": k, "value": _bk_template(v), "check": True, "select": True, "desc": ""}
                              for k, v in (params.get("headers") or {}).items()],
                  "body": {"type": "raw", "raw_type": "JSON", "content": content} if body is not None
                  else {"type": "none", "raw_type": "JSON", "content": ""},
                  "settings": {"timeout": params.get("timeout", 10)}, "success_exp": ""}
    success = params.get("success")
    if isinstance(success, dict) and {"field", "value"} <= set(success) and len(success) <= 3:
        info["success_exp"] = f"resp.{success['field']}{success.get('op', '==')}{json.dumps(success['value'])}"
    return info


def _dnf(cond: Any, negate: bool) -> list[list[tuple[Compare, bool]]]:
    """The condition as a list of conjunctions of (compare, negated) leaves."""
    if isinstance(cond, Compare):
        return [[(cond, negate)]]
    if isinstance(cond, NotOf):
        return _dnf(cond.not_, not negate)
    if isinstance(cond, (AllOf, AnyOf)):
        parts = cond.all if isinstance(cond, AllOf) else cond.any
        conjunctive = isinstance(cond, AllOf) != negate
        if not conjunctive:
            return [term for p in parts for term in _dnf(p, negate)][:256]
        terms: list[list[tuple[Compare, bool]]] = [[]]
        for p in parts:
            terms = [a + b for a in terms for b in _dnf(p, negate)][:256]
        return terms
    raise TypeError(f"not a condition: {cond!r}")
