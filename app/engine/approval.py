"""Approval nodes: who decides, what a countersign's votes add up to. Pure functions over plain data."""
from __future__ import annotations

from typing import Iterable

from app.flowdef.model import APPROVE, REJECT, FinishCondition, NodeDef

from .state import Step, Vote

ALL_AGREE = FinishCondition()


def ordered_approvers(node: NodeDef, users: frozenset[str]) -> tuple[str, ...]:
    """A countersign's approvers in the order they decide: as listed for PERSON, else by name."""
    listed = [u for u in dict.fromkeys(node.processors.value) if u in users] if node.processors.type == "PERSON" else []
    return tuple(listed) + tuple(sorted(users - set(listed)))


def pending(node: NodeDef, approvers: tuple[str, ...], votes: Iterable[Vote]) -> frozenset[str]:
    """Who may decide now: every approver without a vote, or only the next one on a sequential countersign."""
    voted = {v.username for v in votes}
    waiting = [a for a in approvers if a not in voted]
    if node.sequential:
        return frozenset(waiting[:1])
    return frozenset(waiting)


def countersign_outcome(condition: FinishCondition | None, approvers: tuple[str, ...],
                        votes: Iterable[Vote]) -> str | None:
    """APPROVE once enough approvers agree, REJECT once that can no longer happen, else None (still open)."""
    votes = list(votes)
    need = (condition or ALL_AGREE).required(len(approvers))
    agree = sum(1 for v in votes if v.agrees)
    rejected = len(votes) - agree
    if agree >= need:
        return APPROVE
    if len(approvers) - rejected < need:
        return REJECT
    return None


def outcome_of(node: NodeDef, step: Step, votes: tuple[Vote, ...]) -> str | None:
    """The node's outcome after these votes: the first decision on an or-sign, the finish condition on a countersign."""
    if not node.multi:
        return votes[-1].result if votes else None
    return countersign_outcome(node.finish_condition, step.approvers, votes)


def decided_values(node: NodeDef, votes: tuple[Vote, ...], outcome: str, approvers: tuple[str, ...] = ()) -> dict:
    """What the node leaves in the ticket's values: the extra fields (later votes win), the outcome, the remarks,
    and upstream's node variables (who decided, how many passed or rejected; `approval_variables`)."""
    values: dict = {}
    for v in votes:
        values.update(v.values)
    if node.multi:
        remark = "；".join(f"{v.username}：{v.remark}" for v in votes if v.remark)
    else:
        remark = votes[-1].remark
    values[node.result_key] = outcome
    values[node.remark_key] = remark
    values.update(vote_counts(node, votes, len(approvers) if node.multi else 1))
    return values


def vote_counts(node: NodeDef, votes: tuple[Vote, ...], total: int) -> dict:
    """Upstream's approval variables (itsm/ticket/models/ticket.py `get_sign_key_value`): the deciders, how many
    decided / passed / rejected, and the pass / reject rates in percent of `total` approvers."""
    keys = node.approval_variables()
    passed = sum(1 for v in votes if v.agrees)
    rejected = len(votes) - passed
    total = max(total, len(votes), 1)
    return {keys["NODE_APPROVER"]: ",".join(v.username for v in votes),
            keys["PROCESS_COUNT"]: len(votes), keys["PASS_COUNT"]: passed, keys["REJECT_COUNT"]: rejected,
            keys["PASS_RATE"]: _rate(passed, total), keys["REJECT_RATE"]: _rate(rejected, total)}


def _rate(count: int, total: int) -> int | float:
    rate = round(100 * count / total, 2)
    return int(rate) if rate == int(rate) else rate


def word(result: str) -> str:
    return "通过" if result == APPROVE else "拒绝" if result == REJECT else result


def sign_counts(node: NodeDef, votes: Iterable[Vote]) -> dict:
    """A sign node's counts for conditions: submissions, and how many chose each option of its choice fields."""
    votes = list(votes)
    counts = {f"{node.key}_count": len(votes)}
    for f in node.fields:
        if f.type in ("RADIO", "SELECT", "MULTISELECT", "CHECKBOX") and f.choices:
            for c in f.choices:
                counts[f"{f.key}_count_{c.key}"] = sum(
                    1 for v in votes
                    if v.values.get(f.key) == c.key or (isinstance(v.values.get(f.key), list)
                                                        and c.key in v.values.get(f.key)))
    return counts
