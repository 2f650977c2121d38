"""The flow language as frozen pydantic models.

A flow file (YAML or the same structure as JSON) is parsed into `FlowDef`.
Everything here is pure data: no Flask, no SQLAlchemy. The graph and reference
checks that pydantic cannot express live in `app.flowdef.checks`.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator,
                      model_validator)

SERVICE_TYPES = ("request", "change", "event", "question")
# Friendly aliases accepted in flow files; the stored key is always upstream's.
SERVICE_TYPE_ALIASES = {"incident": "event", "problem": "question"}

NODE_KINDS = ("start", "manual", "approval", "sign", "api", "automation", "parallel", "converge", "end")
# gateways: `parallel` starts every outgoing branch whose condition holds, `converge` waits for all started ones
GATEWAY_KINDS = ("parallel", "converge")
# the decision an approval node records (upstream's 审批意见): the value later conditions read
APPROVE, REJECT = "true", "false"
APPROVAL_CHOICE_NAMES = {APPROVE: "通过", REJECT: "拒绝"}
# what a decided approval node leaves for later conditions, by upstream's variable code (itsm/component/constants/
# field.py): `<node>_<suffix>`; NODE_APPROVE_RESULT is the node's `result_key`
APPROVAL_VARIABLES = {"NODE_APPROVE_RESULT": "result", "NODE_APPROVER": "approver", "PROCESS_COUNT": "process_count",
                      "PASS_COUNT": "pass_count", "REJECT_COUNT": "reject_count", "PASS_RATE": "pass_rate",
                      "REJECT_RATE": "reject_rate"}
# each vocabulary once: a Literal for validation, its values as a tuple for everyone else
DistributeType = Literal["PROCESS", "CLAIM_THEN_PROCESS", "DISTRIBUTE_THEN_PROCESS", "DISTRIBUTE_THEN_CLAIM"]
DISTRIBUTE_TYPES = get_args(DistributeType)
ProcessorType = Literal["PERSON", "GENERAL", "CMDB", "STARTER", "BY_ASSIGNOR", "OPEN", "VARIABLE", "STARTER_LEADER",
                        "ASSIGN_LEADER", "ORGANIZATION", "IAM"]
# IAM: a BlueKing IAM (权限中心) role; bk-iam names its members per ticket (create_ticket's meta.state_processors)
IAM_ROLES = ("super_manager", "system_manager", "rating_manager", "instance_approver")
PROCESSOR_TYPES = get_args(ProcessorType)
PROCESSOR_TYPES_WITHOUT_VALUE = ("STARTER", "BY_ASSIGNOR", "OPEN", "STARTER_LEADER")    # who they are follows from the ticket

FIELD_TYPES = (
    "STRING", "TEXT", "INT", "DATE", "DATETIME", "DATETIMERANGE", "TABLE",
    "SELECT", "MULTISELECT", "CHECKBOX", "RADIO", "MEMBER", "MEMBERS",
    "RICHTEXT", "FILE", "CUSTOMTABLE", "TREESELECT", "CASCADE", "LINK", "CUSTOM-FORM",
)
CHOICE_FIELD_TYPES = ("SELECT", "MULTISELECT", "CHECKBOX", "RADIO", "TREESELECT", "CASCADE")

OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "in", "notin", "contains")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- conditions -------------------------------------------------------------

class Compare(_Frozen):
    """`{field: risk, op: "==", value: high}`."""

    field: str
    op: Literal["==", "!=", ">", ">=", "<", "<=", "in", "notin", "contains"] = "=="
    value: Any = None


class AllOf(_Frozen):
    all: tuple["Condition", ...] = Field(min_length=1)


class AnyOf(_Frozen):
    any: tuple["Condition", ...] = Field(min_length=1)


class NotOf(_Frozen):
    not_: "Condition" = Field(alias="not")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _condition_kind(v: Any) -> str:
    """Pick the condition model by its keys, so an error names only that model's problem."""
    if isinstance(v, dict):
        if "all" in v:
            return "AllOf"
        if "any" in v:
            return "AnyOf"
        if "not" in v or "not_" in v:
            return "NotOf"
        return "Compare"
    if isinstance(v, (AllOf, AnyOf, NotOf)):
        return type(v).__name__
    return "Compare"   # also non-mappings: Compare then says what it expects


Condition = Annotated[
    Union[Annotated[Compare, Tag("Compare")], Annotated[AllOf, Tag("AllOf")],
          Annotated[AnyOf, Tag("AnyOf")], Annotated[NotOf, Tag("NotOf")]],
    Discriminator(_condition_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# --- fields -----------------------------------------------------------------

class Choice(_Frozen):
    key: str
    name: str
    children: tuple["Choice", ...] = ()


Choice.model_rebuild()


class Column(_Frozen):
    """A column of a TABLE / CUSTOMTABLE field."""

    key: str
    name: str
    display: Literal["input", "select", "date", "datetime", "int", "textarea"] = "input"
    required: bool = False
    choices: tuple[Choice, ...] = ()
    hide_when: Condition | None = None  # the cell is hidden (and not required) while true; it reads the row's
                                        # cells by column key and the form's fields by field key (cells first)


class ChoiceSource(_Frozen):
    """Where a choice field takes its options when not listed inline."""

    dictionary: str | None = None      # a data dictionary key, e.g. RISK_LEVEL
    api: str | None = None             # a configured API, "<system key>.<api key>"
    items: str = "data"                # API: dotted path of the list of options in the response
    key_field: str = "key"             # API: each option's key ...
    name_field: str = "name"           # ... and label

    @model_validator(mode="after")
    def _one_source(self) -> "ChoiceSource":
        if (self.dictionary is None) == (self.api is None):
            raise ValueError("give exactly one of 'dictionary' or 'api'")
        return self


class FieldDef(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    name: str
    type: str
    required: bool = False
    regex: str | None = None
    regex_message: str | None = None
    default: Any = None
    layout: Literal["half", "full"] = "full"
    desc: str = ""                       # help text shown under the input
    choices: tuple[Choice, ...] = ()
    source: ChoiceSource | None = None
    columns: tuple[Column, ...] = ()    # TABLE / CUSTOMTABLE
    hide_when: Condition | None = None  # hidden (and not required) while true
    max_length: int | None = None
    read_only: bool = False
    default_from: Literal["STARTER_LEADER"] | None = None   # MEMBER/MEMBERS: suggested when the ticket is created

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in FIELD_TYPES:
            raise ValueError(f"unknown field type {v!r}; allowed: {', '.join(FIELD_TYPES)}")
        return v

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            import re

            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return v

    @model_validator(mode="after")
    def _shape(self) -> "FieldDef":
        if self.type in ("TABLE", "CUSTOMTABLE") and not self.columns:
            raise ValueError(f"a {self.type} field needs 'columns'")
        if self.type in ("SELECT", "MULTISELECT", "RADIO", "TREESELECT", "CASCADE"):
            if not self.choices and self.source is None:
                raise ValueError(f"a {self.type} field needs 'choices' or a 'source'")
        if self.choices and self.source is not None:
            raise ValueError("give either 'choices' or 'source', not both")
        if self.default_from and self.type not in ("MEMBER", "MEMBERS"):
            raise ValueError(f"'default_from' is for MEMBER or MEMBERS fields, not {self.type}")
        return self


# --- nodes ------------------------------------------------------------------

class ProcessorSpec(_Frozen):
    """Who may act on a step: `{type: GENERAL, value: [change_managers]}`."""

    type: ProcessorType
    value: tuple[str, ...] = ()

    @field_validator("value", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(p.strip() for p in v.split(",") if p.strip())
        return v

    @model_validator(mode="after")
    def _needs_value(self) -> "ProcessorSpec":
        if self.type in ("PERSON", "GENERAL", "CMDB", "VARIABLE", "ASSIGN_LEADER", "ORGANIZATION") and not self.value:
            raise ValueError(f"processor type {self.type} needs a 'value'")
        if self.type in PROCESSOR_TYPES_WITHOUT_VALUE and self.value:
            raise ValueError(f"processor type {self.type} takes no 'value'")
        if self.type == "IAM" and (len(self.value) != 1 or self.value[0] not in IAM_ROLES):
            raise ValueError(f"processor type IAM takes one IAM role: {', '.join(IAM_ROLES)}")
        return self


class FinishCondition(_Frozen):
    """When a countersign (approval with `multi: true`) is decided: `agree` = `all`, a count, or `"60%"`.

    The node is approved as soon as that many approvers agree and rejected as soon as that
    can no longer happen (with `all`, the first rejection ends it).
    """

    agree: str | int = "all"

    @field_validator("agree", mode="before")
    @classmethod
    def _agree(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'")
        if isinstance(v, int):
            if v < 1:
                raise ValueError("agree must be at least 1")
            return v
        text = str(v).strip()
        if text == "all":
            return text
        if text.endswith("%") and text[:-1].strip().isdigit() and 1 <= int(text[:-1]) <= 100:
            return f"{int(text[:-1])}%"
        if text.isdigit() and int(text) >= 1:
            return int(text)
        raise ValueError("agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'")

    def required(self, approvers: int) -> int:
        """How many of `approvers` must agree (at least 1, at most all of them)."""
        if self.agree == "all":
            need = approvers
        elif isinstance(self.agree, int):
            need = self.agree
        else:
            need = -(-approvers * int(self.agree[:-1]) // 100)      # ceil
        return max(1, min(need, approvers))


def approval_fields(node_key: str) -> tuple["FieldDef", ...]:
    """The decision fields every approval node has (upstream's 审批意见 and 备注), keyed by the node."""
    return (
        FieldDef(key=f"{node_key}_result", name="审批意见", type="RADIO", required=True,
                 choices=tuple(Choice(key=k, name=n) for k, n in APPROVAL_CHOICE_NAMES.items())),
        FieldDef(key=f"{node_key}_remark", name="备注", type="TEXT"),
    )


class RetryPolicy(_Frozen):
    times: int = Field(default=0, ge=0, le=20)
    backoff_seconds: int = Field(default=60, ge=1)


class LayoutHint(_Frozen):
    """Where the visual designer drew a node (`layout: {x: 120, y: 80}`); the engine ignores it."""

    x: int | float = 0
    y: int | float = 0


class NodeDef(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    name: str
    kind: str
    distribute_type: DistributeType = "PROCESS"
    processors: ProcessorSpec | None = None
    assignors: ProcessorSpec | None = None   # who dispatches on DISTRIBUTE_* nodes
    can_deliver: bool = False
    can_terminate: bool = False
    fields: tuple[FieldDef, ...] = ()
    desc: str = ""
    # api / automation nodes (executed by the scheduler; see docs/flows.md)
    api: str | None = None
    plugin: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    # end nodes: whether ending here counts as approved (API approve_result, callbacks)
    approve_result: bool = True
    # approval nodes: countersign (every approver decides) or or-sign (the first decision settles it)
    multi: bool = False
    sequential: bool = False                     # countersign: approvers decide one after another, in order
    finish_condition: FinishCondition | None = None
    # sign nodes: finish early once this holds over the counts of the submissions so far (else when all submitted)
    finish_when: "Condition | None" = None
    layout: LayoutHint | None = None             # the designer's canvas position (optional hint)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in NODE_KINDS:
            raise ValueError(f"unknown node kind {v!r}; allowed: {', '.join(NODE_KINDS)}")
        return v

    @field_validator("processors")
    @classmethod
    def _processors_fit_node(cls, v: ProcessorSpec | None, info: ValidationInfo) -> ProcessorSpec | None:
        # A field validator (not the node's model validator) so the error points at `processors`.
        # `kind` and `distribute_type` are declared before `processors`: present here when valid.
        if v is None:
            return v
        distribute = info.data.get("distribute_type")
        if v.type == "BY_ASSIGNOR" and distribute is not None and not distribute.startswith("DISTRIBUTE"):
            raise ValueError("processors BY_ASSIGNOR needs distribute_type DISTRIBUTE_THEN_PROCESS or DISTRIBUTE_THEN_CLAIM")
        kind = info.data.get("kind")
        if v.type == "OPEN" and kind is not None and kind != "start":
            raise ValueError("processors OPEN is allowed on the start node only")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "NodeDef":
        if self.kind == "approval":
            self._approval_shape()
        elif self.multi or self.sequential or self.finish_condition is not None:
            raise ValueError("multi, sequential and finish_condition belong to approval nodes only")
        if self.kind == "sign":
            if self.processors is None:
                raise ValueError("a sign node needs 'processors' (everyone who submits)")
            if self.distribute_type != "PROCESS" or self.can_deliver:
                raise ValueError("a sign node is processed directly by every processor: distribute_type PROCESS, "
                                 "no can_deliver")
        elif self.finish_when is not None:
            raise ValueError("finish_when belongs to sign nodes only")
        if self.kind == "manual" and self.processors is None and not self.distribute_type.startswith("DISTRIBUTE"):
            raise ValueError("a manual node needs 'processors'")
        if self.distribute_type.startswith("DISTRIBUTE") and self.assignors is None:
            raise ValueError(f"{self.distribute_type} needs 'assignors' (who dispatches)")
        if self.kind == "end" and self.fields:
            raise ValueError("an end node has no fields")
        if self.kind in GATEWAY_KINDS:
            self._gateway_shape()
        if self.kind == "api" and not self.api:
            raise ValueError("an api node needs 'api' (the configured API's key)")
        if self.kind == "automation" and not self.plugin:
            raise ValueError("an automation node needs 'plugin'")
        if self.kind in ("api", "automation"):
            _check_automatic_params(self.params)
        return self

    def _gateway_shape(self) -> None:
        """A parallel or converge gateway is passed by the engine alone: no one processes it, it has no form."""
        what = "a parallel gateway" if self.kind == "parallel" else "a converge gateway"
        if self.fields:
            raise ValueError(f"{what} has no fields")
        if self.processors is not None or self.assignors is not None:
            raise ValueError(f"{what} has no processors or assignors (the engine passes it)")
        if self.distribute_type != "PROCESS" or self.can_deliver or self.can_terminate:
            raise ValueError(f"{what} takes no distribute_type, can_deliver or can_terminate")

    def _approval_shape(self) -> None:
        """An approval node: processors, direct processing, its decision fields prepended to its own."""
        if self.processors is None:
            raise ValueError("an approval node needs 'processors' (the approvers)")
        if self.distribute_type != "PROCESS":
            raise ValueError("an approval node is processed directly: distribute_type must be PROCESS")
        if self.can_deliver:
            raise ValueError("an approval node cannot be delivered (can_deliver)")
        if not self.multi and (self.sequential or self.finish_condition is not None):
            raise ValueError("sequential and finish_condition need multi: true (a countersign)")
        builtin = approval_fields(self.key)
        reserved = {f.key for f in builtin}
        own = tuple(f for f in self.fields if f.key not in reserved or f == _builtin_of(builtin, f.key))
        clash = [f.key for f in self.fields if f.key in reserved and f not in builtin]
        if clash:
            raise ValueError(f"field key {clash[0]!r} is reserved for the approval node's decision")
        object.__setattr__(self, "fields", builtin + tuple(f for f in own if f.key not in reserved))

    @property
    def builtin_fields(self) -> tuple["FieldDef", ...]:
        """The decision fields an approval node adds on its own (not written in the flow file)."""
        return approval_fields(self.key) if self.kind == "approval" else ()

    @property
    def is_countersign(self) -> bool:
        """Every processor acts once (approval with multi, or a sign node); the step keeps their votes."""
        return self.kind == "sign" or (self.kind == "approval" and self.multi)

    def sign_counts(self) -> tuple[str, ...]:
        """The values a sign node adds for later conditions: `<node>_count`, `<field>_count_<choice>`."""
        if self.kind != "sign":
            return ()
        keys = [f"{self.key}_count"]
        for f in self.fields:
            if f.type in ("RADIO", "SELECT", "MULTISELECT", "CHECKBOX") and f.choices:
                keys += [f"{f.key}_count_{c.key}" for c in f.choices]
        return tuple(keys)

    def approval_variables(self) -> dict[str, str]:
        """An approval node's values for later conditions, {upstream code: key}: result, approver, the counts."""
        if self.kind != "approval":
            return {}
        return {code: f"{self.key}_{suffix}" for code, suffix in APPROVAL_VARIABLES.items()}

    @property
    def result_key(self) -> str:
        """The field an approval node's outcome ("true"/"false") is stored in."""
        return f"{self.key}_result"

    @property
    def remark_key(self) -> str:
        return f"{self.key}_remark"

    @property
    def is_gateway(self) -> bool:
        return self.kind in GATEWAY_KINDS

    @property
    def effective_processors(self) -> ProcessorSpec:
        """The processors spec a step of this node resolves (start defaults to the creator)."""
        if self.processors is not None:
            return self.processors
        if self.kind == "start":
            return ProcessorSpec(type="STARTER")
        return ProcessorSpec(type="BY_ASSIGNOR")


def _builtin_of(builtin: tuple["FieldDef", ...], key: str) -> "FieldDef | None":
    return next((f for f in builtin if f.key == key), None)


def _check_automatic_params(params: dict) -> None:
    """api/automation params: `request` a mapping, `response` {field: dotted path}, `success` a condition."""
    from pydantic import TypeAdapter

    if "request" in params and not isinstance(params["request"], (dict, list)):
        raise ValueError("params.request must be a mapping (the request body / query template)")
    response = params.get("response", {})
    if not isinstance(response, dict) or not all(isinstance(v, str) for v in response.values()):
        raise ValueError("params.response must map field keys to dotted paths of the response, e.g. {ip: data.ip}")
    if "success" in params:
        try:
            TypeAdapter(Condition).validate_python(params["success"])
        except ValueError as exc:
            raise ValueError(f"params.success is not a condition: {exc}") from None


class TransitionDef(_Frozen):
    from_: str = Field(alias="from")
    to: str
    name: str = ""
    when: Condition | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class NotifyPolicy(_Frozen):
    """Notification policy set when a flow is deployed (the manual's 任务通知策略)."""

    enabled: bool = True
    channels: tuple[Literal["email", "webhook", "wecom", "log"], ...] = ("log",)
    frequency: Literal["once", "daily"] = "once"
    supervise: bool = True
    supervisors: tuple[ProcessorSpec, ...] = (ProcessorSpec(type="STARTER"),)


class FlowDef(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    name: str
    service_type: str
    desc: str = ""
    biz_related: bool = False
    notify: NotifyPolicy = NotifyPolicy()
    nodes: tuple[NodeDef, ...] = Field(min_length=2)
    transitions: tuple[TransitionDef, ...] = Field(min_length=1)

    @field_validator("service_type", mode="before")
    @classmethod
    def _service_type(cls, v: Any) -> Any:
        v = SERVICE_TYPE_ALIASES.get(v, v)
        if v not in SERVICE_TYPES:
            raise ValueError(
                f"unknown service_type {v!r}; allowed: request, change, event (incident), question (problem)"
            )
        return v

    # --- lookups used by the engine and the services ------------------------
    def node(self, key: str) -> NodeDef:
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)

    @property
    def start(self) -> NodeDef:
        return next(n for n in self.nodes if n.kind == "start")

    def outgoing(self, key: str) -> tuple[TransitionDef, ...]:
        return tuple(t for t in self.transitions if t.from_ == key)

    def all_fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for n in self.nodes for f in n.fields)

    def field(self, key: str) -> FieldDef:
        for f in self.all_fields():
            if f.key == key:
                return f
        raise KeyError(key)
