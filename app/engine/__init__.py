"""The ticket engine: pure state machine over a compiled flow (no Flask, no SQLAlchemy)."""
from . import operations
from .machine import allowed_operations, apply, open_step, refusal, resolve, start_ticket, supervisors
from .state import (Actor, ApprovalDecided, Directory, Join, Log, Notify, Outcome, Step, StepChanged, StepClosed, StepOpened,
                    TicketEnded, TicketState, Vote)

__all__ = [
    "operations", "allowed_operations", "apply", "refusal", "open_step", "resolve", "start_ticket", "supervisors",
    "Actor", "ApprovalDecided", "Directory", "Join", "Log", "Notify", "Outcome", "Step", "StepChanged", "StepClosed", "StepOpened",
    "TicketEnded", "TicketState", "Vote",
]
