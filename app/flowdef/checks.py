"""Graph and reference checks that a schema cannot express.

Each problem is `(location, message)`; the loader turns the location into a
file line. The checks: one start node, at least one end, no duplicate keys,
transitions between known nodes, every node reachable and able to reach an
end, one default transition per node, conditions only on fields that exist on
every path before them, CMDB roles only in business-related flows, parallel
regions well formed (see `parallel`).
"""
from __future__ import annotations

from collections import defaultdict, deque

from .conditions import condition_fields
from .model import FlowDef
from .parallel import Region, analyse

Problem = tuple[tuple, str]


def check_flow(flow: FlowDef, *, known_roles: set[str] | None = None, known_dictionaries: set[str] | None = None,
               known_apis: set[str] | None = None, known_plugins: set[str] | None = None) -> list[Problem]:
    """Every structural problem of a schema-valid flow (empty list: the flow is usable). A `known_*` set, when
    given, also reports the references it lacks."""
    problems: list[Problem] = _automation_problems(flow, known_apis, known_plugins)
    index = {}
    for i, node in enumerate(flow.nodes):
        if node.key in index:
            problems.append((("nodes", i, "key"), f"duplicate node key {node.key!r}"))
        else:
            index[node.key] = i
    starts = [i for i, n in enumerate(flow.nodes) if n.kind == "start"]
    if len(starts) != 1:
        problems.append((("nodes",), f"a flow needs exactly one start node, found {len(starts)}"))
    if not any(n.kind == "end" for n in flow.nodes):
        problems.append((("nodes",), "a flow needs at least one end node"))
    problems += _field_problems(flow, known_dictionaries)
    problems += _processor_problems(flow, known_roles)

    succ: dict[str, list[str]] = defaultdict(list)
    defaults: dict[str, int] = defaultdict(int)
    for i, t in enumerate(flow.transitions):
        ok = True
        for end, key in (("from", t.from_), ("to", t.to)):
            if key not in index:
                problems.append((("transitions", i, end), f"transition {end} unknown node {key!r}"))
                ok = False
        if not ok:
            continue
        if flow.nodes[index[t.from_]].kind == "end":
            problems.append((("transitions", i, "from"), f"an end node ({t.from_!r}) has no outgoing transitions"))
        succ[t.from_].append(t.to)
        if t.when is None and flow.nodes[index[t.from_]].kind != "parallel":   # a gateway's branches may all be
            defaults[t.from_] += 1
            if defaults[t.from_] == 2:
                problems.append((("transitions", i), f"node {t.from_!r} has more than one transition without 'when'"))
    if problems or len(starts) != 1:
        return problems

    start = flow.nodes[starts[0]].key
    reachable = _reach(start, succ)
    pred: dict[str, list[str]] = defaultdict(list)
    for a, bs in succ.items():
        for b in bs:
            pred[b].append(a)
    ends = [n.key for n in flow.nodes if n.kind == "end"]
    can_end = set()
    for e in ends:
        can_end |= _reach(e, pred)
    for i, n in enumerate(flow.nodes):
        if n.key not in reachable:
            problems.append((("nodes", i), f"node {n.key!r} is unreachable from the start node"))
        elif n.key not in can_end:
            problems.append((("nodes", i), f"no path from node {n.key!r} to an end node"))
    if problems:
        return problems
    regions, region_problems = analyse(flow)
    if region_problems:
        return region_problems
    problems += _condition_problems(flow, start, succ, pred, regions)
    return problems


def _reach(origin: str, edges: dict[str, list[str]]) -> set[str]:
    seen, queue = {origin}, deque([origin])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _field_problems(flow: FlowDef, known_dictionaries: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for i, node in enumerate(flow.nodes):
        for j, f in enumerate(node.fields):
            if f.key in seen:
                problems.append((("nodes", i, "fields", j, "key"),
                                 f"duplicate field key {f.key!r} (already on node {seen[f.key]!r})"))
            else:
                seen[f.key] = node.key
            if f.source and f.source.dictionary and known_dictionaries is not None \
                    and f.source.dictionary not in known_dictionaries:
                problems.append((("nodes", i, "fields", j, "source", "dictionary"),
                                 f"unknown data dictionary {f.source.dictionary!r}"))
    return problems


def _automation_problems(flow: FlowDef, known_apis: set[str] | None, known_plugins: set[str] | None) -> list[Problem]:
    """api nodes and API-fed choice fields naming an API that is not configured (or not enabled), automation nodes
    naming no installed plugin."""
    problems: list[Problem] = []
    for i, node in enumerate(flow.nodes):
        for j, f in enumerate(node.fields):
            if f.source is not None and f.source.api is not None and known_apis is not None \
                    and f.source.api not in known_apis:
                problems.append((("nodes", i, "fields", j, "source", "api"), f"unknown API {f.source.api!r}"))
        if node.kind == "api" and known_apis is not None and node.api and node.api not in known_apis:
            problems.append((("nodes", i, "api"), f"unknown API {node.api!r}"))
        if node.kind == "automation" and known_plugins is not None and node.plugin and node.plugin not in known_plugins:
            problems.append((("nodes", i, "plugin"), f"unknown automation plugin {node.plugin!r}"))
    return problems


def _processor_problems(flow: FlowDef, known_roles: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    for i, node in enumerate(flow.nodes):
        for attr in ("processors", "assignors"):
            spec = getattr(node, attr)
            if spec is None:
                continue
            if spec.type == "CMDB" and not flow.biz_related:
                problems.append((("nodes", i, attr, "type"),
                                 "CMDB business roles are allowed only in a flow with biz_related: true"))
            if spec.type == "OPEN" and attr == "assignors":
                problems.append((("nodes", i, attr, "type"), "assignors cannot be OPEN"))
            if spec.type == "ASSIGN_LEADER":
                for key in spec.value:
                    other = next((n for n in flow.nodes if n.key == key), None)
                    if other is None or other.kind not in ("manual", "approval") or other.key == node.key:
                        problems.append((("nodes", i, attr, "value"),
                                         f"ASSIGN_LEADER names a manual or approval node; {key!r} is not one"))
            if spec.type == "VARIABLE" and (attr == "assignors" or node.kind == "start"):
                problems.append((("nodes", i, attr, "type"),
                                 "VARIABLE names people picked in earlier fields: not for assignors or the start node"))
            if spec.type in ("GENERAL", "CMDB") and known_roles is not None:
                for role in spec.value:
                    if role not in known_roles:
                        problems.append((("nodes", i, attr, "value"), f"unknown role {role!r}"))
    return problems


def _condition_problems(flow: FlowDef, start: str, succ, pred, regions: dict[str, Region]) -> list[Problem]:
    """Conditions may only read fields defined on every path that reaches them."""
    own = {n.key: {f.key for f in n.fields} | set(n.sign_counts()) | set(n.approval_variables().values())
           for n in flow.nodes}
    every = set().union(*own.values())
    avail_out = {k: set(every) for k in own}
    avail_out[start] = set(own[start])
    closing = {r.converge: r for r in regions.values()}

    def inflow_of(key: str) -> set[str]:
        preds = pred.get(key, [])
        inflow = set.intersection(*(avail_out[p] for p in preds)) if preds else set()
        region = closing.get(key)
        if region is not None:
            # a converge also has what every unconditional branch filled: those branches always ran
            for b in region.branches:
                ends = [p for p in preds if p in region.nodes[b] or (b == key and p == region.parallel)]
                if not region.conditional[b] and ends:
                    inflow |= set.intersection(*(avail_out[p] for p in ends))
        return inflow

    changed = True
    while changed:
        changed = False
        for n in flow.nodes:
            if n.key == start:
                continue
            inflow = inflow_of(n.key)
            new = own[n.key] | inflow
            if new != avail_out[n.key]:
                avail_out[n.key] = new
                changed = True
    problems: list[Problem] = []
    for i, t in enumerate(flow.transitions):
        for key in sorted(condition_fields(t.when) - avail_out[t.from_]):
            where = "is not a field of this flow" if key not in every else \
                "is not defined on every path before this transition"
            problems.append((("transitions", i, "when"), f"condition field {key!r} {where}"))
    for i, node in enumerate(flow.nodes):
        for key in sorted(condition_fields(node.finish_when) - set(node.sign_counts())):
            problems.append((("nodes", i, "finish_when"),
                             f"finish_when may read only this node's counts ({', '.join(node.sign_counts())}), "
                             f"not {key!r}"))
    every_field = {f.key: f for n in flow.nodes for f in n.fields}
    for i, node in enumerate(flow.nodes):
        spec = node.processors
        if spec is not None and spec.type == "VARIABLE" and node.key != start:
            inflow = inflow_of(node.key)
            for key in spec.value:
                if key not in every_field:
                    problems.append((("nodes", i, "processors", "value"),
                                     f"VARIABLE field {key!r} is not a field of this flow"))
                elif every_field[key].type not in ("MEMBER", "MEMBERS"):
                    problems.append((("nodes", i, "processors", "value"),
                                     f"VARIABLE field {key!r} must be a MEMBER or MEMBERS field, not {every_field[key].type}"))
                elif key not in inflow:
                    problems.append((("nodes", i, "processors", "value"),
                                     f"VARIABLE field {key!r} is not filled on every path before this node"))
    for i, node in enumerate(flow.nodes):
        before = avail_out[node.key]
        for j, f in enumerate(node.fields):
            for key in sorted(condition_fields(f.hide_when) - before):
                where = "is not a field of this flow" if key not in every else \
                    "is not defined on this node or every path before it"
                problems.append((("nodes", i, "fields", j, "hide_when"), f"hide_when field {key!r} {where}"))
            row = {c.key for c in f.columns}
            for k, column in enumerate(f.columns):
                for key in sorted(condition_fields(column.hide_when) - before - row):
                    where = "is not a field of this flow" if key not in every else \
                        "is not defined on this node or every path before it"
                    problems.append((("nodes", i, "fields", j, "columns", k, "hide_when"),
                                     f"hide_when field {key!r} {where}"))
    return problems
