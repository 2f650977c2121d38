"""Parallel regions: which converge gateway closes each parallel gateway, and which branch each node is on.

A region is a `parallel` gateway, the branches its outgoing transitions start, and
the one `converge` gateway every branch leads to. A branch is named by the node its
transition enters (the converge itself for an empty branch). Regions may nest: a
parallel gateway inside a branch belongs, with its whole region, to that branch.

`analyse` returns the regions and every problem found (`(location, message)` as in
`checks`): a converge matched by no or several parallel gateways, branches that do
not meet at one converge, a transition that crosses into another branch, leaves a
branch before its converge or enters a branch from outside. Pure: used by the
validation (`checks`) and by the engine's compiled flow.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from .model import FlowDef

Problem = tuple[tuple, str]


@dataclass(frozen=True)
class Region:
    parallel: str
    converge: str
    branches: tuple[str, ...]                    # branch keys, in the order of the gateway's transitions
    nodes: dict[str, frozenset[str]]             # branch key -> every node on it (nested regions included)
    conditional: dict[str, bool]                 # branch key -> its transition carries a condition

    def branch_of(self, node_key: str) -> str | None:
        """The branch `node_key` is on (the converge's own key for an arrival straight from the gateway)."""
        if node_key == self.parallel:
            return self.converge
        return next((b for b in self.branches if node_key in self.nodes[b]), None)

    @property
    def inside(self) -> frozenset[str]:
        return frozenset().union(*self.nodes.values())


def analyse(flow: FlowDef) -> tuple[dict[str, Region], list[Problem]]:
    """{parallel key: Region} for every well-formed region, and the problems of the others."""
    return _Analysis(flow).run()


class _Analysis:
    def __init__(self, flow: FlowDef):
        self.flow = flow
        self.kind = {n.key: n.kind for n in flow.nodes}
        self.index = {n.key: i for i, n in enumerate(flow.nodes)}
        self.out: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for i, t in enumerate(flow.transitions):
            self.out[t.from_].append((i, t.to))
        self.regions: dict[str, Region | None] = {}
        self.problems: list[Problem] = []
        self._busy: set[str] = set()

    def run(self) -> tuple[dict[str, Region], list[Problem]]:
        for n in self.flow.nodes:
            if n.kind == "parallel":
                self.region(n.key)
        closers: dict[str, list[str]] = defaultdict(list)
        for p, region in self.regions.items():
            if region is not None:
                closers[region.converge].append(p)
        for n in self.flow.nodes:       # (a malformed region already said why its converge is unmatched)
            if n.kind == "converge" and not closers.get(n.key) and None not in self.regions.values():
                self.problems.append((("nodes", self.index[n.key]),
                                      f"converge gateway {n.key!r} is not matched by a parallel gateway"))
            elif n.kind == "converge" and len(closers[n.key]) > 1:
                self.problems.append((("nodes", self.index[n.key]),
                                      f"converge gateway {n.key!r} closes several parallel gateways "
                                      f"({', '.join(sorted(closers[n.key]))}): give each its own"))
        good = {p: r for p, r in self.regions.items() if r is not None and len(closers[r.converge]) == 1}
        for region in good.values():
            self._check_edges(region)
        return good, self.problems

    def _problem(self, loc: tuple, message: str) -> None:
        self.problems.append((loc, message))

    def region(self, p: str) -> Region | None:
        """The region of parallel gateway `p` (computed once; None when it is malformed)."""
        if p in self.regions:
            return self.regions[p]
        if p in self._busy:
            self._problem(("nodes", self.index[p]), f"parallel gateway {p!r} is nested inside its own branches")
            return None
        self._busy.add(p)
        try:
            self.regions[p] = self._build(p)
        finally:
            self._busy.discard(p)
        return self.regions[p]

    def _build(self, p: str) -> Region | None:
        outgoing = self.out.get(p, [])
        if len(outgoing) < 2:
            self._problem(("nodes", self.index[p]), f"parallel gateway {p!r} needs at least two outgoing transitions")
            return None
        seen_to: set[str] = set()
        for i, to in outgoing:
            if to in seen_to:
                self._problem(("transitions", i), f"two branches of parallel gateway {p!r} start at {to!r}")
                return None
            seen_to.add(to)
        # 1. the converge every branch reaches first (nested regions are jumped over)
        reached = [self._converges_reached(p, to) for _, to in outgoing]
        common = set.intersection(*reached)
        if len(common) != 1:
            found = sorted(set.union(*reached))
            self._problem(("nodes", self.index[p]),
                          f"the branches of parallel gateway {p!r} must all lead to one converge gateway"
                          + (f" (they reach {', '.join(found)})" if found else " (none is reached)"))
            return None
        c = common.pop()
        # 2. each branch: the nodes before that converge, not past it
        after = self._after(c, p) | self._before(p)
        nodes, conditional = {}, {}
        for i, to in outgoing:
            nodes[to] = frozenset() if to == c else self._walk(p, c, to, stop=after)
            conditional[to] = self.flow.transitions[i].when is not None
        return Region(p, c, tuple(to for _, to in outgoing), nodes, conditional)

    def _converges_reached(self, p: str, origin: str) -> set[str]:
        found: set[str] = set()
        seen: set[str] = set()
        queue = deque([origin])
        while queue:
            n = queue.popleft()
            if n in seen or n == p or self.kind.get(n) == "end":
                continue
            seen.add(n)
            if self.kind.get(n) == "converge":
                found.add(n)
                continue
            queue.extend(self._next(n))
        return found

    def _next(self, n: str) -> list[str]:
        """Successors, with a nested parallel gateway jumping to what follows its converge."""
        if self.kind.get(n) == "parallel":
            inner = self.region(n)
            return list(self._succ(inner.converge)) if inner is not None else []
        return list(self._succ(n))

    def _succ(self, n: str) -> list[str]:
        return [to for _, to in self.out.get(n, [])]

    def _reach(self, seeds, avoid: str) -> set[str]:
        """Nodes reachable from `seeds` without passing through `avoid`."""
        seen: set[str] = set()
        queue = deque(seeds)
        while queue:
            n = queue.popleft()
            if n in seen or n == avoid:
                continue
            seen.add(n)
            queue.extend(self._succ(n))
        return seen

    def _after(self, c: str, p: str) -> set[str]:
        """Nodes reachable past converge `c` without coming back through `p`: a branch never jumps to them."""
        return self._reach(self._succ(c), p)

    def _before(self, p: str) -> set[str]:
        """Nodes reachable from the start without passing `p`: a branch never goes back to them."""
        start = next((n.key for n in self.flow.nodes if n.kind == "start"), None)
        return self._reach([start] if start else [], p)

    def _walk(self, p: str, c: str, origin: str, stop: set[str]) -> frozenset[str]:
        nodes: set[str] = set()
        queue = deque([origin])
        while queue:
            n = queue.popleft()
            if n in nodes or n in (p, c) or n in stop or self.kind.get(n) in ("end", "converge"):
                continue
            nodes.add(n)
            if self.kind.get(n) == "parallel":
                inner = self.region(n)
                if inner is not None:
                    nodes |= inner.inside | {inner.converge}
                    queue.extend(self._succ(inner.converge))
                continue
            queue.extend(self._succ(n))
        return frozenset(nodes)

    def _check_edges(self, r: Region) -> None:
        """Transitions stay on their branch (or go to the converge); none enters the region from outside."""
        inside = r.inside
        for i, t in enumerate(self.flow.transitions):
            homes = [b for b in r.branches if t.from_ in r.nodes[b]]
            if homes:
                crossed = next(((h, b) for h in homes for b in r.branches
                                if b not in homes and t.to in r.nodes[b]), None)
                if crossed is not None:
                    self._problem(("transitions", i),
                                  f"transition from {t.from_!r} crosses from branch {crossed[0]!r} into branch "
                                  f"{crossed[1]!r} of parallel gateway {r.parallel!r}")
                elif t.to != r.converge and not any(t.to in r.nodes[h] for h in homes):
                    self._problem(("transitions", i),
                                  f"transition from {t.from_!r} leaves branch {homes[0]!r} of parallel gateway "
                                  f"{r.parallel!r} before its converge gateway {r.converge!r}")
            elif t.from_ != r.parallel and (t.to in inside or t.to == r.converge):
                where = f"the converge gateway {r.converge!r}" if t.to == r.converge else \
                    f"branch {r.branch_of(t.to)!r} of parallel gateway {r.parallel!r}"
                self._problem(("transitions", i),
                              f"transition from {t.from_!r} enters {where} from outside "
                              f"(only the gateway {r.parallel!r} starts its branches)")
