"""Which defs call themselves, directly or through others, in time linear in the defs and calls.

One pass of Tarjan's strongly-connected-components algorithm finds them (a def is recursive
when its component has several defs or it calls itself); then two breadth-first searches per
component, from its first def, give each recursive def a shortest-known cycle to show. A
search that started from every def took 14-37 s on a chain of 8,000 defs.
"""

from __future__ import annotations

from collections import deque

SHOWN = 8  # names shown of a long cycle: the first seven, then the count of the rest, then the def again


def cycles(calls: dict[str, list[str]]) -> dict[str, str]:
    """``{def: "a -> b -> a"}`` for every def on a cycle of ``calls`` (def -> the defs it calls, sorted).

    >>> cycles({"a": ["b"], "b": ["a"], "c": ["a"]})
    {'a': 'a -> b -> a', 'b': 'b -> a -> b'}
    """
    out: dict[str, str] = {}
    for comp in _components(calls):
        members = set(comp)
        if len(comp) == 1 and comp[0] not in calls[comp[0]]:
            continue
        root = min(comp)
        callers: dict[str, list[str]] = {n: [] for n in comp}
        for n in comp:
            for m in calls[n]:
                if m in members:
                    callers[m].append(n)
        inside = {n: [m for m in calls[n] if m in members] for n in comp}
        forward = _Tree(root, inside)  # paths root -> n
        backward = _Tree(root, {n: sorted(c) for n, c in callers.items()})  # paths n -> root
        for name in sorted(comp):
            out[name] = _show(name, root, forward, backward, callers)
    return out


def _components(calls: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, with an explicit stack (no recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out = []
    for start, callees in calls.items():
        if start in index:
            continue
        work = [(start, iter(callees))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(calls[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    comp.append(n)
                    if n == node:
                        break
                out.append(comp)
    return out


class _Tree:
    """A breadth-first search from a root: each node's parent, depth, and the first SHOWN names
    of the path root -> node (lists shared between nodes past that length, so memory stays linear)."""

    def __init__(self, root: str, neighbours: dict[str, list[str]]):
        self.parent: dict[str, str | None] = {root: None}
        self.depth = {root: 0}
        self.prefix = {root: [root]}
        todo = deque([root])
        while todo:
            n = todo.popleft()
            for m in neighbours[n]:
                if m not in self.parent:
                    self.parent[m], self.depth[m] = n, self.depth[n] + 1
                    p = self.prefix[n]
                    self.prefix[m] = p + [m] if len(p) < SHOWN else p
                    todo.append(m)


def _show(name: str, root: str, forward: _Tree, backward: _Tree, callers: dict) -> str:
    """A cycle through ``name``: name -> ... -> root along ``backward``, then root -> ... -> name
    along ``forward``; for the root, root -> ... -> u -> root through its nearest caller u.
    Built in O(SHOWN) steps whatever the cycle's length."""
    if name == root:
        u = min(callers[root], key=lambda c: (forward.depth[c], c))
        head, length = forward.prefix[u] + [root], forward.depth[u] + 2
    else:
        head, n = [], name
        while len(head) < SHOWN and n != root:
            head.append(n)
            n = backward.parent[n]
        head += forward.prefix[name][: SHOWN - len(head)]
        length = backward.depth[name] + forward.depth[name] + 1
    if length <= SHOWN:
        return " -> ".join(head)
    return " -> ".join(head[: SHOWN - 1]) + f" -> ... ({length - SHOWN:,} more) -> {name}"
