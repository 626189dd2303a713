"""The service graph's own checks: calls name services, no cycles, classes and pools exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from sim.model.service import Call, Service


def _graph_error(path: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("graph", message, {"path": path, **ctx})


def check_graph(services: Mapping[str, Service], classes: list[str]) -> None:
    """Calls name existing services and form no cycle; class names are the workload's."""
    names = ", ".join(services)
    for name, service in services.items():
        for cls in service.classes:
            if cls not in classes:
                raise _graph_error(
                    f"services.{name}.classes.{cls}",
                    "not a class of the workload; classes: {known}",
                    known=", ".join(classes),
                )
        targets = set()
        for where, calls in call_lists(name, service):
            for index, call in enumerate(calls):
                if call.to not in services:
                    raise _graph_error(
                        f"{where}.{index}.to",
                        "'{to}' is not a service; services: {names}",
                        to=call.to,
                        names=names,
                    )
                targets.add(call.to)
        for target in service.connection_pools:
            if target not in targets:
                raise _graph_error(
                    f"services.{name}.connection_pools.{target}",
                    "this service makes no calls to '{target}'",
                    target=target,
                )
    cycle = _find_cycle(services)
    if cycle:
        raise _graph_error(
            f"services.{cycle[0]}.calls", "calls form a cycle: {cycle}", cycle=" -> ".join(cycle)
        )


def call_lists(name: str, service: Service) -> list[tuple[str, list[Call]]]:
    """Every list of calls a service has (its own and its classes'), with their paths."""
    lists = [(f"services.{name}.calls", service.calls)]
    for cls, behaviour in service.classes.items():
        if behaviour.calls is not None:
            lists.append((f"services.{name}.classes.{cls}.calls", behaviour.calls))
    return lists


def _find_cycle(services: Mapping[str, Service]) -> list[str] | None:
    edges = {
        name: sorted({c.to for _, calls in call_lists(name, s) for c in calls})
        for name, s in services.items()
    }
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in services:
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None
