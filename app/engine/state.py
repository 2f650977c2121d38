"""Plain, immutable data the engine works on: a ticket's state and its open steps."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Mapping, Protocol

# Ticket statuses (the manual's names)
RUNNING = "RUNNING"
SUSPENDED = "SUSPENDED"
FINISHED = "FINISHED"
TERMINATED = "TERMINATED"
REVOKED = "REVOKED"
TICKET_OVER = frozenset({FINISHED, TERMINATED, REVOKED})
TICKET_STATUS_NAMES = {
    RUNNING: "处理中", SUSPENDED: "被挂起", FINISHED: "已结束", TERMINATED: "被终止", REVOKED: "已撤销",
}

# Step (node) statuses
WAIT = "WAIT"
RECEIVING = "RECEIVING"
DISTRIBUTING = "DISTRIBUTING"
FAILED = "FAILED"
SUSPEND = "SUSPEND"
STEP_OPEN = frozenset({WAIT, RUNNING, RECEIVING, DISTRIBUTING, FAILED, SUSPEND})
STEP_STATUS_NAMES = {
    WAIT: "待处理", RUNNING: "处理中", RECEIVING: "待认领", DISTRIBUTING: "待分派",
    TERMINATED: "被终止", FINISHED: "已结束", FAILED: "执行失败", SUSPEND: "被挂起",
}

# action_type of a step, as the API reports it
ACTION_OF_STATUS = {RUNNING: "TRANSITION", RECEIVING: "CLAIM", DISTRIBUTING: "DISTRIBUTE"}
AUTOMATIC_KINDS = ("api", "automation")     # node kinds the scheduler executes


def action_type_of(kind: str, status: str, pre_status: str | None = None) -> str:
    """BlueKing's action_type of a step: AUTOMATIC, or what its (pre-suspend) status waits for."""
    if kind in AUTOMATIC_KINDS:
        return "AUTOMATIC"
    return ACTION_OF_STATUS.get(pre_status or status, "TRANSITION")

# Operation keys (BlueKing's)
TRANSITION, CLAIM, DISTRIBUTE, DELIVER, TERMINATE = "TRANSITION", "CLAIM", "DISTRIBUTE", "DELIVER", "TERMINATE"
SUSPEND_OP, UNSUSPEND, WITHDRAW, SUPERVISE = "SUSPEND", "UNSUSPEND", "WITHDRAW", "SUPERVISE"
RETRY, SKIP = "RETRY", "SKIP"
OPERATION_NAMES = {
    TRANSITION: "提交", CLAIM: "认领", DISTRIBUTE: "派单", DELIVER: "转单", TERMINATE: "终止",
    SUSPEND_OP: "挂起", UNSUSPEND: "恢复", WITHDRAW: "撤单", SUPERVISE: "督办", RETRY: "重试", SKIP: "跳过",
}
SYSTEM = "system"        # the operator of the scheduler's operations


class Directory(Protocol):
    """Resolves role keys to usernames; supplied by the services (the engine does no I/O)."""

    def role_members(self, role_type: str, keys: tuple[str, ...]) -> frozenset[str]: ...

    def leaders_of(self, usernames: frozenset[str]) -> frozenset[str]:
        """The leaders of these users (STARTER_LEADER, ASSIGN_LEADER)."""
        ...

    def department_members(self, departments: tuple[str, ...]) -> frozenset[str]:
        """Enabled users of these departments (ORGANIZATION)."""
        ...

    def step_processor(self, node_key: str) -> str | None:
        """Who submitted the ticket's latest finished step at this node (ASSIGN_LEADER)."""
        ...


@dataclass(frozen=True)
class Actor:
    username: str
    is_superuser: bool = False


@dataclass(frozen=True)
class Vote:
    """One approver's decision on an approval step: "true" (通过) or "false" (拒绝), a remark, extra fields."""

    username: str
    result: str
    remark: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return self.result == "true"


@dataclass(frozen=True)
class Step:
    """An open step: one node of the flow waiting for someone (or for the scheduler)."""

    node_key: str
    name: str
    status: str
    processors_type: str                 # PERSON / GENERAL / CMDB / STARTER / OPEN / AUTOMATIC
    processors: tuple[str, ...] = ()     # spec values: usernames for PERSON, role keys for GENERAL/CMDB
    users: frozenset[str] = frozenset()  # resolved usernames allowed to act now
    pre_status: str | None = None        # status before a suspend
    kind: str = "manual"
    id: int | None = None                # database id, when persisted
    approvers: tuple[str, ...] = ()      # countersign: every approver, in order (fixed when the step opens)
    votes: tuple[Vote, ...] = ()         # approval: the decisions so far, in the order they came

    @property
    def is_open_to_anyone(self) -> bool:
        return self.processors_type == "OPEN"

    @property
    def action_type(self) -> str:
        return action_type_of(self.kind, self.status, self.pre_status)

    def with_(self, **changes: Any) -> "Step":
        return replace(self, **changes)


@dataclass(frozen=True)
class Join:
    """A converge gateway waiting for the branches its parallel gateway started (keyed by the converge)."""

    parallel: str
    started: tuple[str, ...]              # branch keys (the node each branch began at)
    arrived: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return set(self.arrived) >= set(self.started)

    def as_json(self) -> dict:
        return {"parallel": self.parallel, "started": list(self.started), "arrived": list(self.arrived)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Join":
        return cls(str(data["parallel"]), tuple(data.get("started") or ()), tuple(data.get("arrived") or ()))


@dataclass(frozen=True)
class TicketState:
    status: str
    creator: str
    values: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()          # open steps only
    others_acted: bool = False            # anyone but the creator has acted (withdraw is over)
    pre_status: str | None = None
    approve_result: bool | None = None    # the outcome of the last approval node decided, if any
    assigned: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # node key -> processors set for this ticket
    handled: Mapping[str, str] = field(default_factory=dict)   # node key -> who just submitted it (this operation)
    joins: Mapping[str, Join] = field(default_factory=dict)    # converge key -> the branches it waits for

    def __post_init__(self) -> None:
        if not isinstance(self.values, MappingProxyType):
            object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def is_over(self) -> bool:
        return self.status in TICKET_OVER

    def step(self, node_key: str) -> Step | None:
        return next((s for s in self.steps if s.node_key == node_key), None)

    def with_(self, **changes: Any) -> "TicketState":
        return replace(self, **changes)


# --- events: what the services persist and send -----------------------------

@dataclass(frozen=True)
class Log:
    operator: str
    message: str
    action: str
    node_key: str | None = None


@dataclass(frozen=True)
class StepOpened:
    step: Step


@dataclass(frozen=True)
class StepChanged:
    step: Step


@dataclass(frozen=True)
class StepClosed:
    node_key: str
    status: str                 # FINISHED or TERMINATED
    by: str | None
    values: Mapping[str, Any] = field(default_factory=dict)   # what this step submitted


@dataclass(frozen=True)
class Notify:
    kind: str                   # todo, claim, distribute, deliver, supervise, suspend, resume, finished, terminated, revoked
    users: frozenset[str]
    node_key: str | None = None
    message: str = ""


@dataclass(frozen=True)
class ApprovalDecided:
    """An approval node reached its outcome; `deciders` are the approvers who voted."""

    node_key: str
    approved: bool
    deciders: tuple[str, ...]


@dataclass(frozen=True)
class TicketEnded:
    status: str
    approved: bool = False       # FINISHED at an end node that counts as approved


@dataclass(frozen=True)
class Outcome:
    state: TicketState
    events: tuple = ()
