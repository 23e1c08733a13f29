"""The prerequisite graph of skills: pure Python, no Django."""

from collections.abc import Hashable, Iterable
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)
_END = object()


def find_cycle(edges: Iterable[tuple[Node, Node]]) -> list[Node] | None:
    """Return one cycle of the graph as a closed path (``['a', 'b', 'a']``), or ``None``.

    Each edge is ``(prerequisite, skill)``: the path follows the edges from a
    prerequisite to the skill that needs it. Iterative (no recursion limit on long
    chains) and deterministic: nodes are visited in the order they first appear.
    """
    graph: dict[Node, list[Node]] = {}
    for prerequisite, skill in edges:
        graph.setdefault(prerequisite, []).append(skill)
        graph.setdefault(skill, [])

    done: set[Node] = set()
    for start in graph:
        if start in done:
            continue
        # Depth-first search; ``path`` is the current chain, ``on_path`` its members with positions.
        path: list[Node] = [start]
        on_path: dict[Node, int] = {start: 0}
        iterators = [iter(graph[start])]
        while iterators:
            nxt = next(iterators[-1], _END)
            if nxt is _END:
                iterators.pop()
                finished = path.pop()
                del on_path[finished]
                done.add(finished)
                continue
            if nxt in on_path:
                return path[on_path[nxt]:] + [nxt]
            if nxt in done:
                continue
            on_path[nxt] = len(path)
            path.append(nxt)
            iterators.append(iter(graph[nxt]))
    return None


def format_cycle(cycle: list) -> str:
    return " -> ".join(str(node) for node in cycle)
