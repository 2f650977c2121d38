"""Flow graph layout for the SVG preview: nodes + edges -> positions (grandalf, pure Python).

Pure: no Flask, no database. The template `admin/flow/_graph.svg` draws the result.
Back edges (a transition returning to an earlier node) are found by a depth-first
walk from the start node and drawn dashed.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout
from grandalf.routing import route_with_lines

NODE_H = 36
MARGIN = 24
KIND_COLORS = {   # fill, stroke
    "start": ("#d4edda", "#28a745"), "end": ("#e2e3e5", "#6c757d"), "manual": ("#d1ecf1", "#17a2b8"),
    "approval": ("#e2d9f3", "#6f42c1"), "sign": ("#fde2e4", "#d63384"),
    "api": ("#fff3cd", "#d39e00"), "automation": ("#f8d7da", "#c82333"),
    "parallel": ("#ffe8cc", "#fd7e14"), "converge": ("#ffe8cc", "#fd7e14"),
}
GATEWAY_KINDS = ("parallel", "converge")


@dataclass(frozen=True)
class GraphNode:
    key: str
    label: str
    kind: str
    x: float          # top-left corner
    y: float
    w: float
    h: float

    @property
    def fill(self) -> str:
        return KIND_COLORS.get(self.kind, ("#ffffff", "#343a40"))[0]

    @property
    def stroke(self) -> str:
        return KIND_COLORS.get(self.kind, ("#ffffff", "#343a40"))[1]

    @property
    def is_gateway(self) -> bool:
        return self.kind in GATEWAY_KINDS

    @property
    def polygon(self) -> str:
        """A gateway's outline: a hexagon pointed left and right (the SVG `points`)."""
        x, y, w, h, tip = self.x, self.y, self.w, self.h, min(14.0, self.w / 4)
        pts = ((x, y + h / 2), (x + tip, y), (x + w - tip, y), (x + w, y + h / 2), (x + w - tip, y + h), (x + tip, y + h))
        return " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str
    points: tuple[tuple[float, float], ...]
    back: bool                     # drawn dashed

    def _bulge(self) -> tuple[float, float] | None:
        """The control point that bends a straight back edge aside, so it does not hide the forward one."""
        if not self.back or len(self.points) != 2:
            return None
        (x1, y1), (x2, y2) = self.points
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1.0)
        return (x1 + x2) / 2 + (y2 - y1) / length * 45, (y1 + y2) / 2 - (x2 - x1) / length * 45

    @property
    def d(self) -> str:
        """The SVG path data."""
        (x0, y0), *rest = self.points
        ctrl = self._bulge()
        if ctrl:
            (x1, y1), = rest
            return f"M{x0:.1f},{y0:.1f} Q{ctrl[0]:.1f},{ctrl[1]:.1f} {x1:.1f},{y1:.1f}"
        return f"M{x0:.1f},{y0:.1f} " + " ".join(f"L{x:.1f},{y:.1f}" for x, y in rest)

    @property
    def label_at(self) -> tuple[float, float]:
        ctrl = self._bulge()
        if ctrl:
            (x0, y0), (x1, y1) = self.points
            return 0.25 * x0 + 0.5 * ctrl[0] + 0.25 * x1, 0.25 * y0 + 0.5 * ctrl[1] + 0.25 * y1
        pts = self.points
        if len(pts) % 2 == 0:
            (x1, y1), (x2, y2) = pts[len(pts) // 2 - 1], pts[len(pts) // 2]
            return (x1 + x2) / 2, (y1 + y2) / 2
        return pts[len(pts) // 2]


@dataclass(frozen=True)
class GraphLayout:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    width: float
    height: float
    legend: tuple[tuple[str, str, str], ...] = field(default=())   # (kind, fill, stroke)


def text_width(text: str) -> float:
    """Approximate rendered width at 13px: CJK characters are twice as wide as Latin ones."""
    return sum(13 if unicodedata.east_asian_width(c) in "WF" else 7.5 for c in text)


def back_edges(start: str, edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that go back to a node still on the depth-first path from `start` (the cycle closers)."""
    out: dict[str, list[str]] = {}
    for a, b in edges:
        out.setdefault(a, []).append(b)
    found, on_path, done = set(), set(), set()

    def visit(node: str) -> None:
        on_path.add(node)
        for nxt in out.get(node, []):
            if nxt in on_path:
                found.add((node, nxt))
            elif nxt not in done:
                visit(nxt)
        on_path.discard(node)
        done.add(node)

    visit(start)
    for node in list(out):            # unreachable parts too (previews of broken drafts)
        if node not in done:
            visit(node)
    return found


class _View:
    def __init__(self, w: float, h: float):
        self.w, self.h, self.xy = w, h, (0.0, 0.0)


class _EdgeView:
    def __init__(self):
        self.points: list = []

    def setpath(self, pts):
        self.points = pts


def layout_flow(nodes: list[tuple[str, str, str]], edges: list[tuple[str, str, str]],
                start: str | None = None) -> GraphLayout:
    """Lay out `nodes` [(key, label, kind)] and `edges` [(from, to, label)] top to bottom."""
    if not nodes:
        return GraphLayout((), (), 0, 0)
    start = start or nodes[0][0]
    back = back_edges(start, [(a, b) for a, b, _ in edges])
    vertices = {key: Vertex(key) for key, _, _ in nodes}
    sizes = {key: max(text_width(label) + 28, 72) for key, label, _ in nodes}
    for key, v in vertices.items():
        v.view = _View(sizes[key], NODE_H)
    real, loops = [], []
    for a, b, label in edges:
        if a not in vertices or b not in vertices:
            continue
        if a == b:
            loops.append((a, label))
            continue
        e = Edge(vertices[a], vertices[b], data=(a, b, label))
        e.view = _EdgeView()
        real.append(e)
    graph = Graph(list(vertices.values()), real)
    offset_x = 0.0
    for component in graph.C:
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = 40, 50
        roots = [v for v in component.sV if v.data == start] or None
        inverted = [e for e in component.sE if (e.data[0], e.data[1]) in back]
        sug.init_all(roots=roots, inverted_edges=inverted if roots else None)
        sug.route_edge = route_with_lines
        sug.draw(3)
        min_x = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        max_x = max(v.view.xy[0] + v.view.w / 2 for v in component.sV)
        shift = offset_x - min_x
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        for e in component.sE:
            e.view.points = [(x + shift, y) for x, y in e.view.points]
        offset_x += (max_x - min_x) + 60
    min_y = min(v.view.xy[1] - NODE_H / 2 for v in vertices.values())
    dx, dy = MARGIN, MARGIN - min_y
    placed = tuple(GraphNode(key, label, kind, vertices[key].view.xy[0] - sizes[key] / 2 + dx,
                             vertices[key].view.xy[1] - NODE_H / 2 + dy, sizes[key], NODE_H)
                   for key, label, kind in nodes)
    by_key = {n.key: n for n in placed}
    drawn = []
    for e in real:
        a, b, label = e.data
        pts = [(x + dx, y + dy) for x, y in e.view.points]
        if pts and _dist(pts[0], (by_key[a].cx, by_key[a].cy)) > _dist(pts[-1], (by_key[a].cx, by_key[a].cy)):
            pts.reverse()                      # inverted edges come back routed head-to-tail
        drawn.append(GraphEdge(a, b, label, tuple(pts), (a, b) in back))
    for key, label in loops:
        n = by_key[key]
        x, y = n.x + n.w, n.cy
        drawn.append(GraphEdge(key, key, label, ((x, y - 8), (x + 26, y - 8), (x + 26, y + 8), (x + 2, y + 8)), True))
    extra = max((abs(e._bulge()[0] - e.points[0][0]) for e in drawn if e._bulge()), default=0)
    width = max(max(n.x + n.w for n in placed), max((max(x for x, _ in e.points) for e in drawn), default=0)) + MARGIN + 40 + extra / 2
    height = max(n.y + n.h for n in placed) + MARGIN
    legend = tuple((kind, *KIND_COLORS[kind]) for kind in KIND_COLORS if any(n.kind == kind for n in placed))
    return GraphLayout(placed, tuple(drawn), width, height, legend)


def _dist(p, q) -> float:
    return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2


def layout_definition(definition) -> GraphLayout:
    """Layout of a `FlowDef`: its nodes, kinds, and transitions named by their names."""
    nodes = [(n.key, n.name, n.kind) for n in definition.nodes]
    edges = [(t.from_, t.to, t.name) for t in definition.transitions]
    return layout_flow(nodes, edges, start=definition.start.key)
