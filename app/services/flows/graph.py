"""Flow graph layout for the SVG preview: nodes + edges -> positions (grandalf, pure Python).

Pure: no Flask, no database. The template `admin/flow/_graph.svg` draws the result.
Back edges (a transition returning to an earlier node) are found by a depth-first
walk from the start node and drawn dashed.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

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
    label_pos: tuple[float, float] | None = None    # where the label goes (placed clear of nodes and labels)

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

    def point_at(self, t: float) -> tuple[float, float]:
        """The point a fraction `t` of the way along the drawn edge (its curve, or its polyline by length)."""
        ctrl = self._bulge()
        if ctrl:
            (x0, y0), (x1, y1) = self.points
            u = 1 - t
            return u * u * x0 + 2 * u * t * ctrl[0] + t * t * x1, u * u * y0 + 2 * u * t * ctrl[1] + t * t * y1
        pts = self.points
        lengths = [_dist(p, q) ** 0.5 for p, q in zip(pts, pts[1:])]
        goal = t * sum(lengths)
        for (p, q), length in zip(zip(pts, pts[1:]), lengths):
            if goal <= length and length > 0:
                f = goal / length
                return p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f
            goal -= length
        return pts[-1]

    @property
    def label_at(self) -> tuple[float, float]:
        if self.label_pos is not None:
            return self.label_pos
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
    drawn = place_labels(placed, drawn)
    extra = max((abs(e._bulge()[0] - e.points[0][0]) for e in drawn if e._bulge()), default=0)
    width = max(max(n.x + n.w for n in placed), max((max(x for x, _ in e.points) for e in drawn), default=0)) + MARGIN + 40 + extra / 2
    width = max([width] + [label_box(e)[2] + MARGIN for e in drawn if e.label])
    height = max([max(n.y + n.h for n in placed) + MARGIN] + [label_box(e)[3] + MARGIN for e in drawn if e.label])
    legend = tuple((kind, *KIND_COLORS[kind]) for kind in KIND_COLORS if any(n.kind == kind for n in placed))
    return GraphLayout(placed, tuple(drawn), width, height, legend)


LABEL_FONT = 11          # px, as the templates draw route labels (text-anchor middle, dy -3 above the point)
# where along an edge a label may sit, tried in order, and the sideways shifts tried at each place
LABEL_FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)
LABEL_SHIFTS = ((0, 0), (0, 14), (0, -14), (1, 0), (-1, 0), (0, 28), (0, -28))


def label_box(edge: GraphEdge) -> tuple[float, float, float, float]:
    """The rectangle (x0, y0, x1, y1) the edge's label covers when drawn at `label_at`."""
    x, y = edge.label_at
    half = text_width(edge.label) * LABEL_FONT / 13 / 2 + 3
    return x - half, y - 3 - LABEL_FONT - 2, x + half, y - 3 + 3


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(nodes: tuple[GraphNode, ...], edges: list[GraphEdge]) -> list[GraphEdge]:
    """Each route label at the first spot along its edge that covers no node and no label placed before it
    (e.g. 退回 no longer sits on 实施完成); the middle of the edge when no spot is clear."""
    taken = [(n.x - 2, n.y - 2, n.x + n.w + 2, n.y + n.h + 2) for n in nodes]
    out = []
    for edge in edges:
        if not edge.label:
            out.append(edge)
            continue
        half = text_width(edge.label) * LABEL_FONT / 13 / 2 + 4
        chosen = None
        for t in LABEL_FRACTIONS:
            x, y = edge.point_at(t)
            for sx, sy in LABEL_SHIFTS:
                candidate = replace(edge, label_pos=(x + sx * (half + 6), y + sy))
                box = label_box(candidate)
                if box[0] >= 0 and box[1] >= 0 and not any(_overlaps(box, other) for other in taken):
                    chosen = candidate
                    break
            if chosen:
                break
        chosen = chosen or edge
        taken.append(label_box(chosen))
        out.append(chosen)
    return out


def _dist(p, q) -> float:
    return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2


def layout_definition(definition) -> GraphLayout:
    """Layout of a `FlowDef`: its nodes, kinds, and transitions named by their names."""
    nodes = [(n.key, n.name, n.kind) for n in definition.nodes]
    edges = [(t.from_, t.to, t.name) for t in definition.transitions]
    return layout_flow(nodes, edges, start=definition.start.key)
