"""Route table: (method, contract path) -> operation id + handler.

A route module (e.g. `routes_assistants.py`) exposes `ROUTES: list[EmuRoute]`; the app collects
every module named in `ROUTE_MODULES` that exists, so another engineer adds a surface by adding a
module, without touching the app. Paths are the contract's (no `/openai` prefix).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from conformance.emulator.context import Handler

BodyKind = Literal["json", "multipart", "none"]

ROUTE_MODULES: tuple[str, ...] = (
    "conformance.emulator.routes_assistants",
    "conformance.emulator.routes_inference",
    "conformance.emulator.routes_vector_stores",
)


@dataclass(frozen=True)
class EmuRoute:
    method: str
    path: str
    operation_id: str
    handler: Handler
    # what the body may be: "json" (empty allowed; application/json otherwise), "multipart"
    # (the handler parses `ctx.request.form()`), "none" (GET/DELETE)
    body: BodyKind = "json"
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(re.findall(r"{([^}]+)}", self.path))
        literal = re.split(r"{[^}]+}", self.path)
        regex = "^" + "([^/]+)".join(re.escape(part) for part in literal) + "$"
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "pattern", re.compile(regex))


class RouteTable:
    def __init__(self, routes: Iterable[EmuRoute]) -> None:
        self.routes = list(routes)
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"route {route.method} {route.path} is registered twice")
            seen.add(key)

    def match(self, method: str, path: str) -> tuple[EmuRoute, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route, dict(zip(route.names, found.groups(), strict=True))
        return None

    def by_operation(self) -> dict[str, EmuRoute]:
        return {route.operation_id: route for route in self.routes}


def collect_routes(modules: Iterable[str] = ROUTE_MODULES) -> list[EmuRoute]:
    """ROUTES of every listed module that exists (a surface not written yet is simply absent)."""
    routes: list[EmuRoute] = []
    for name in modules:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        routes.extend(getattr(module, "ROUTES", []))
    return routes
