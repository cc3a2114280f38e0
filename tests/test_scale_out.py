"""Ready to scale out by user: every query reaches one partition of a schema
hash-partitioned as Citus would distribute it, except the few that are
unscoped by design.

Each query of queries/ is run under ``EXPLAIN ANALYZE`` with the
representative parameters of ``make sql-review`` on a seeded database whose
tables are ``PARTITION BY HASH`` of their distribution column
(tests/partitioning.py: ``users`` by id, the user-owned tables by user_id,
the identity tables by their identity). A partition counts as reached when
a plan node read it (pruned partitions are not in the plan, or never run).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from dev import sql_review

from tests.conftest import FreshDatabase
from tests.partitioning import DISTRIBUTION, partition_by_hash
from tests.plans import plan_nodes
from tests.test_contract import EXPECTED_UNSCOPED
from tests.test_sql_review import REDUCED

# The unscoped queries of tests/test_contract.py read every partition of their
# table (key rotation and its counts, the retention purges, status and doctor's
# counts), except these, reviewed one by one: the identity lookups read one
# partition of their own table, the diagnostics no table. Changing this is a
# reviewed change, as for the unscoped queries themselves.
ONE_KEY_OR_NO_TABLE = frozenset(
    {
        "get_user_identity",
        "get_account_identity",
        "get_api_token_owner",
        "get_backend_pid",
        "get_server_version",
        "get_notification_queue_usage",
        "get_migration_lock",
    }
)
FAN_OUT_BY_DESIGN = EXPECTED_UNSCOPED - ONE_KEY_OR_NO_TABLE

# The account merge moves one user's rows to another: its reads name both users
# (two nodes under Citus, one distributed transaction).
TWO_USERS_BY_DESIGN = frozenset({"list_movable_keys"})

_PARTITION = re.compile(r"(?P<table>\w+)_p(?P<remainder>\d+)")


def partitions_reached(plan: dict[str, Any]) -> dict[str, set[int]]:
    """Per partitioned table, the partitions (remainders) a plan read."""
    reached: dict[str, set[int]] = {}
    for node in plan_nodes(plan):
        match = _PARTITION.fullmatch(node.get("Relation Name", ""))
        if match and match["table"] in DISTRIBUTION and node.get("Actual Loops", 0) > 0:
            reached.setdefault(match["table"], set()).add(int(match["remainder"]))
    return reached


def on_one_node(reached: dict[str, set[int]]) -> bool:
    """One partition of each table, all of one remainder: co-located on one node.

    The user-owned tables hash the same user_id to the same remainder;
    an identity table is read alone, by its own key.
    """
    remainders = set().union(*reached.values()) if reached else set()
    return all(len(found) == 1 for found in reached.values()) and len(remainders) <= 1


def test_reaching_partitions_is_read_from_executed_nodes_only() -> None:
    plan: dict[str, Any] = {
        "Node Type": "Append",
        "Actual Loops": 1,
        "Plans": [
            {"Node Type": "Index Scan", "Relation Name": "tasks_p3", "Actual Loops": 1},
            {"Node Type": "Index Scan", "Relation Name": "tasks_p5", "Actual Loops": 0},
            {"Node Type": "Index Scan", "Relation Name": "task_messages_p3", "Actual Loops": 2},
        ],
    }
    assert partitions_reached(plan) == {"tasks": {3}, "task_messages": {3}}
    assert on_one_node(partitions_reached(plan))
    plan["Plans"][1]["Actual Loops"] = 1
    assert not on_one_node(partitions_reached(plan))
    assert not on_one_node({"tasks": {3}, "task_messages": {4}})


@pytest.fixture(scope="module")
async def reviewed_on_partitions(fresh_database: FreshDatabase) -> list[sql_review.Reviewed]:
    url = fresh_database()
    await partition_by_hash(url)
    reviewed, _, _ = await sql_review.run_review(url, REDUCED)
    return reviewed


async def test_every_query_reaches_one_partition_except_the_unscoped_by_design(
    reviewed_on_partitions: list[sql_review.Reviewed],
) -> None:
    names = set(sql_review.query_files())
    assert {query.name for query in reviewed_on_partitions} == names
    fanned_out = {
        query.name: partitions_reached(query.plan)
        for query in reviewed_on_partitions
        if not on_one_node(partitions_reached(query.plan))
    }
    assert set(fanned_out) == FAN_OUT_BY_DESIGN | TWO_USERS_BY_DESIGN, fanned_out
    single = names - FAN_OUT_BY_DESIGN - TWO_USERS_BY_DESIGN
    assert len(single) > 70
    # What the sweeps read is every partition of their table; the merge, two.
    for name, reached in fanned_out.items():
        widest = max(len(found) for found in reached.values())
        assert widest == (2 if name in TWO_USERS_BY_DESIGN else 8), (name, reached)


async def test_the_identity_lookups_read_one_partition_of_their_own_table(
    reviewed_on_partitions: list[sql_review.Reviewed],
) -> None:
    lookups = {
        "get_user_identity": "user_identities",
        "get_account_identity": "account_identities",
        "get_api_token_owner": "api_token_hashes",
    }
    by_name = {query.name: query for query in reviewed_on_partitions}
    for name, table in lookups.items():
        reached = partitions_reached(by_name[name].plan)
        assert set(reached) == {table}, (name, reached)
        assert len(reached[table]) == 1
