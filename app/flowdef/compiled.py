"""A validated flow with its conditions compiled, ready for the engine."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Mapping

from .conditions import Predicate, compile_condition
from .model import FieldDef, FlowDef, NodeDef, TransitionDef
from .parallel import Region, analyse


class CompiledFlow:
    """Immutable wrapper: the definition plus compiled transition predicates."""

    __slots__ = ("definition", "_nodes", "_out", "_fields", "_field_node", "__dict__")

    def __init__(self, definition: FlowDef):
        self.definition = definition
        self._nodes = {n.key: n for n in definition.nodes}
        self._out: dict[str, list[tuple[TransitionDef, Predicate]]] = {}
        for t in definition.transitions:
            self._out.setdefault(t.from_, []).append((t, compile_condition(t.when)))
        self._fields = {f.key: f for n in definition.nodes for f in n.fields}
        self._field_node = {f.key: n.key for n in definition.nodes for f in n.fields}

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def start(self) -> NodeDef:
        return self.definition.start

    def node(self, key: str) -> NodeDef:
        return self._nodes[key]

    def has_node(self, key: str) -> bool:
        return key in self._nodes

    def has_field(self, key: str) -> bool:
        return key in self._fields

    def field(self, key: str) -> FieldDef:
        return self._fields[key]

    def fields(self) -> tuple[FieldDef, ...]:
        return tuple(self._fields.values())

    def node_of_field(self, key: str) -> str:
        return self._field_node[key]

    def next_transition(self, node_key: str, values: Mapping[str, Any]) -> TransitionDef | None:
        """The transition taken out of `node_key`: the first conditional one that holds, else the default."""
        default = None
        for t, pred in self._out.get(node_key, ()):
            if t.when is None:
                default = default or t
            elif pred(values):
                return t
        return default

    def branches_started(self, gateway: str, values: Mapping[str, Any]) -> tuple[TransitionDef, ...]:
        """A parallel gateway's transitions whose condition holds (no condition: always), in flow order."""
        return tuple(t for t, pred in self._out.get(gateway, ()) if t.when is None or pred(values))

    @cached_property
    def regions(self) -> dict[str, Region]:
        """{parallel gateway key: its region} (a validated flow has only well-formed ones)."""
        if not any(n.kind == "parallel" for n in self.definition.nodes):
            return {}
        return analyse(self.definition)[0]

    @cached_property
    def _closing(self) -> dict[str, Region]:
        return {r.converge: r for r in self.regions.values()}

    def closes(self, converge: str) -> bool:
        return converge in self._closing

    def region_of_converge(self, converge: str) -> Region:
        return self._closing[converge]

    @cached_property
    def hide_predicates(self) -> dict[str, Predicate]:
        return {k: compile_condition(f.hide_when) for k, f in self._fields.items() if f.hide_when is not None}

    def is_hidden(self, field_key: str, values: Mapping[str, Any]) -> bool:
        pred = self.hide_predicates.get(field_key)
        return bool(pred and pred(values))

    def __repr__(self) -> str:
        return f"<CompiledFlow {self.key}>"
