"""Reading EXPLAIN (FORMAT JSON) plans, for the tests that check them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec

from tests.conftest import checks


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan tree."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def parsed_plan(explained: Any) -> list[dict[str, Any]]:
    """The nodes of the plan of an EXPLAIN (FORMAT JSON) result (json text or decoded)."""
    document = json.loads(explained) if isinstance(explained, str) else explained
    return list(plan_nodes(document[0]["Plan"]))


class IndexKey(msgspec.Struct, frozen=True):
    """What a plan test asks of an index: its table, first key column and predicate."""

    table_name: str
    first_column: str
    predicate: str | None


async def index_keys(conn: Any) -> dict[str, IndexKey]:
    """Every index of the schema by name (partitions' indexes included)."""
    return {
        row["index_name"]: msgspec.convert(dict(row), IndexKey)
        async for row in checks.list_index_keys(conn)
    }


def scanned_indexes(plan: list[dict[str, Any]]) -> list[str]:
    """The indexes the plan's nodes scan, in plan order."""
    return [node["Index Name"] for node in plan if "Index Name" in node]


def leads_with_the_user(key: IndexKey) -> bool:
    """Whether an index is searched by user first: user_id, or the id of users."""
    user_column = "id" if key.table_name.startswith("users") else "user_id"
    return key.first_column == user_column
