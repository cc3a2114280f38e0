"""Reading EXPLAIN (FORMAT JSON) plans, for the tests that check them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan tree."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def parsed_plan(explained: Any) -> list[dict[str, Any]]:
    """The nodes of the plan of an EXPLAIN (FORMAT JSON) result (json text or decoded)."""
    document = json.loads(explained) if isinstance(explained, str) else explained
    return list(plan_nodes(document[0]["Plan"]))
