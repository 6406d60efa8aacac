"""A layered (Sugiyama-style) layout, top to bottom, in plain Python: no Graphviz needed.

1. Edges that point back in the boxes' order (a shared layer fed by a later one) are reversed
   for the layout and drawn forward again; a self-loop is drawn on the box's side.
2. Longest-path layering: a box sits one rank below its lowest predecessor.
3. An edge spanning several ranks gets a dummy point per rank it crosses, so it is routed
   between the boxes.
4. Ordering within ranks: barycenter sweeps down and up, keeping the order with fewest crossings.
5. Coordinates: each rank's x positions are the closest, in least squares, to the mean of their
   neighbours' that keep the boxes apart and in order (isotonic regression by pool-adjacent-
   violators), alternating down and up; ranks stacked with room for the edge labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GAP_X, GAP_Y, DUMMY_W = 28.0, 46.0, 8.0
SWEEPS = 8


@dataclass
class Layout:
    pos: dict  # id -> (x, y) of the box's top-left corner
    size: dict  # id -> (w, h)
    routes: list  # per edge: [(x, y), ...] from its source to its target
    width: float = 0.0
    height: float = 0.0
    loops: list = field(default_factory=list)  # indices of self-loop edges


def layout(sizes: dict, edges: list) -> Layout:
    """``sizes``: id -> (w, h) in drawing order; ``edges``: [(src, dst), ...]. Returns where
    everything goes: ``layout({"a": (40, 20), "b": (40, 20)}, [("a", "b")]).pos["b"]``."""
    index = {k: i for i, k in enumerate(sizes)}
    size = dict(sizes)
    rank = {k: 0 for k in sizes}
    flipped = [index[u] >= index[v] for u, v in edges]
    forward = sorted({(u, v) if not f else (v, u) for (u, v), f in zip(edges, flipped) if u != v},
                     key=lambda e: (index[e[0]], index[e[1]]))
    for u, v in forward:  # sorted by source index, and every forward edge goes up the index
        rank[v] = max(rank[v], rank[u] + 1)
    chains, succ = {}, {}
    for u, v in forward:
        chain, prev = [u], u
        for r in range(rank[u] + 1, rank[v]):
            dummy = f"\x00{u}\x00{v}\x00{r}"
            size[dummy], rank[dummy] = (DUMMY_W, 0.0), r
            succ.setdefault(prev, []).append(dummy)
            chain.append(dummy)
            prev = dummy
        succ.setdefault(prev, []).append(v)
        chains[(u, v)] = chain + [v]
    ranks = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for k in size:  # boxes in their given order, dummies after: the first order is the spec's
        ranks[rank[k]].append(k)
    pred = {}
    for u, vs in succ.items():
        for v in vs:
            pred.setdefault(v, []).append(u)
    ranks = _order(ranks, succ, pred)
    x = _xs(ranks, size, succ, pred)
    heights = [max((size[k][1] for k in r), default=0.0) for r in ranks]
    tops, y = [], 0.0
    for h in heights:
        tops.append(y)
        y += h + GAP_Y
    pos = {k: (x[k] - size[k][0] / 2, tops[rank[k]] + (heights[rank[k]] - size[k][1]) / 2) for k in size}
    out = Layout({k: pos[k] for k in sizes}, {k: size[k] for k in sizes}, [])
    ports = _ports(edges, flipped, pos, size)
    lanes, lanes_of = {}, {}
    for i, ((u, v), f) in enumerate(zip(edges, flipped)):
        pair = (v, u) if f else (u, v)
        lanes[i] = lanes_of.get(pair, 0)
        lanes_of[pair] = lanes[i] + 1
    for i, ((u, v), f) in enumerate(zip(edges, flipped)):
        if u == v:
            out.loops.append(i)
            out.routes.append(_loop(pos[u], size[u]))
            continue
        a, b = (v, u) if f else (u, v)
        chain = chains[(a, b)]
        # parallel edges (an LSTM's h and c into one concatenate) share the dummies: spread them
        shift = (lanes[i] - (lanes_of[(a, b)] - 1) / 2) * 5.0
        points = [ports[(i, "out")] if not f else ports[(i, "in")]]
        for d in chain[1:-1]:
            points += [(x[d] + shift, tops[rank[d]]), (x[d] + shift, tops[rank[d]] + heights[rank[d]])]
        points.append(ports[(i, "in")] if not f else ports[(i, "out")])
        out.routes.append(points[::-1] if f else points)
    right = max((pos[k][0] + size[k][0] for k in size), default=0.0)
    out.width, out.height = right + (30.0 if out.loops else 0.0), max(y - GAP_Y, 0.0)
    return out


def _crossings(ranks, succ, where) -> int:
    n = 0
    for r in ranks[:-1]:
        pairs = sorted((where[u], where[v]) for u in r for v in succ.get(u, ()))
        for i, (_a, b) in enumerate(pairs):
            n += sum(1 for _c, d in pairs[i + 1:] if d < b)
    return n


def _order(ranks, succ, pred):
    where = {k: i for r in ranks for i, k in enumerate(r)}
    best, best_n = [list(r) for r in ranks], _crossings(ranks, succ, where)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        seq = range(1, len(ranks)) if down else range(len(ranks) - 2, -1, -1)
        for ri in seq:
            near = pred if down else succ
            r = ranks[ri]

            def key(k, near=near):
                ns = near.get(k, ())
                return (sum(where[n] for n in ns) / len(ns) if ns else where[k], where[k])

            r.sort(key=key)
            where.update({k: i for i, k in enumerate(r)})
        n = _crossings(ranks, succ, where)
        if n < best_n:
            best, best_n = [list(r) for r in ranks], n
    return best


def _xs(ranks, size, succ, pred) -> dict:
    x = {}
    for r in ranks:
        left = 0.0
        for k in r:
            x[k] = left + size[k][0] / 2
            left += size[k][0] + GAP_X
    for sweep in range(2 * SWEEPS):
        seq = ranks if sweep % 2 == 0 else ranks[::-1]
        for r in seq:
            wants = []
            for k in r:
                ns = [*pred.get(k, ()), *succ.get(k, ())]
                wants.append(sum(x[n] for n in ns) / len(ns) if ns else x[k])
            for k, v in zip(r, _fit_in_order(wants, [size[k][0] for k in r])):
                x[k] = v
    low = min((x[k] - size[k][0] / 2 for k in x), default=0.0)
    return {k: v - low for k, v in x.items()}


def _fit_in_order(wants: list, widths: list) -> list:
    """Centres as close to ``wants`` as possible (least squares) that keep the boxes in order,
    GAP_X apart: with offsets o_i (the widths before i), y_i = x_i - o_i must not decrease, so
    the answer is the isotonic regression of wants_i - o_i (pool adjacent violators)."""
    offsets, o = [], 0.0
    for i, w in enumerate(widths):
        if i:
            o += (widths[i - 1] + w) / 2 + GAP_X
        offsets.append(o)
    blocks = []  # [mean, count]
    for want, off in zip(wants, offsets):
        blocks.append([want - off, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    ys = [m for m, c in blocks for _ in range(c)]
    return [y + off for y, off in zip(ys, offsets)]


def _ports(edges, flipped, pos, size) -> dict:
    """Where each edge leaves its source (bottom) and enters its target (top): spread over the
    box's width in the order of the other ends, so edges into a merge do not cross at the box."""
    ends = {}
    for i, ((u, v), f) in enumerate(zip(edges, flipped)):
        if u == v:
            continue
        ends.setdefault((u, "out"), []).append(i)
        ends.setdefault((v, "in"), []).append(i)
    out = {}
    for (k, side), idx in ends.items():
        other = {i: pos[edges[i][1] if side == "out" else edges[i][0]][0] for i in idx}
        idx = sorted(idx, key=lambda i: (other[i], i))
        (x0, y0), (w, h) = pos[k], size[k]
        down = side == "out"
        for j, i in enumerate(idx):
            px = x0 + w * (j + 1) / (len(idx) + 1)
            # a flipped edge runs against the ranks: it leaves its source's top and enters its target's bottom
            at_bottom = down != flipped[i]
            out[(i, side)] = (px, y0 + h if at_bottom else y0)
    return out


def _loop(p, s) -> list:
    (x0, y0), (w, h) = p, s
    return [(x0 + w, y0 + h * 0.35), (x0 + w + 26, y0 + h * 0.35), (x0 + w + 26, y0 + h * 0.65),
            (x0 + w, y0 + h * 0.65)]
