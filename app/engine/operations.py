"""Operations a user (or the system) asks of a ticket, as plain values."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Transition:
    """Submit the current step's form (审批/提交)."""

    node_key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    key = "TRANSITION"


@dataclass(frozen=True)
class Claim:
    node_key: str
    key = "CLAIM"


@dataclass(frozen=True)
class Distribute:
    """派单: an assignor picks the processors of a DISTRIBUTE_* step."""

    node_key: str
    processors_type: str          # PERSON or GENERAL
    processors: tuple[str, ...]
    message: str = ""
    key = "DISTRIBUTE"


@dataclass(frozen=True)
class Deliver:
    """转单: hand a running step to other processors."""

    node_key: str
    processors_type: str
    processors: tuple[str, ...]
    message: str = ""
    key = "DELIVER"


@dataclass(frozen=True)
class TerminateStep:
    node_key: str
    message: str = ""
    key = "TERMINATE"


@dataclass(frozen=True)
class Suspend:
    message: str = ""
    key = "SUSPEND"


@dataclass(frozen=True)
class Unsuspend:
    message: str = ""
    key = "UNSUSPEND"


@dataclass(frozen=True)
class Withdraw:
    message: str = ""
    key = "WITHDRAW"


@dataclass(frozen=True)
class Supervise:
    message: str = ""
    key = "SUPERVISE"


@dataclass(frozen=True)
class TerminateTicket:
    message: str = ""
    key = "TERMINATE"


STEP_OPERATIONS = (Transition, Claim, Distribute, Deliver, TerminateStep)
TICKET_OPERATIONS = (Suspend, Unsuspend, Withdraw, Supervise, TerminateTicket)


@dataclass(frozen=True)
class CompleteAutomatic:
    """The scheduler reports an automatic (api/automation) step done, with the values it produced."""

    node_key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    key = "AUTO_COMPLETE"


@dataclass(frozen=True)
class FailAutomatic:
    """The scheduler reports a failed attempt; `final` marks the step FAILED, else it only logs the retry."""

    node_key: str
    error: str
    final: bool = True
    retry_in: int = 0
    key = "AUTO_FAIL"


@dataclass(frozen=True)
class RetryStep:
    """Run a FAILED automatic step again (重试)."""

    node_key: str
    key = "RETRY"


@dataclass(frozen=True)
class SkipStep:
    """Move past a FAILED automatic step without its result (跳过)."""

    node_key: str
    message: str = ""
    key = "SKIP"


STEP_OPERATIONS = STEP_OPERATIONS + (RetryStep, SkipStep)
SYSTEM_OPERATIONS = (CompleteAutomatic, FailAutomatic)
