"""The plan report of ``make sql-review`` (dev/sql_review.py), at reduced scale.

Every query of queries/ is planned on a seeded database (1,000 users as in
the full run, 20 tasks each instead of 1,000) and no plan may carry a flag that
dev/plan_excuses.txt does not excuse. The full-scale run is ``make sql-review``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dev import sql_review
from dev.sql_review import Reviewed, Scale

from tests.conftest import FreshDatabase

REDUCED = Scale(users=1000, tasks_per_user=20, log_entries=1000, tasks_with_messages=5)


def node(node_type: str, **details: Any) -> dict[str, Any]:
    return {"Node Type": node_type, "Actual Rows": 1, "Actual Loops": 1, **details}


def test_flags_name_seq_scans_big_sorts_and_discarded_rows() -> None:
    plan = node(
        "Sort",
        Plans=[
            node(
                "Nested Loop",
                Plans=[
                    node("Seq Scan", **{"Relation Name": "tasks", "Actual Rows": 500}),
                    node(
                        "Index Scan",
                        **{
                            "Relation Name": "task_messages",
                            "Rows Removed by Filter": 3,
                            "Actual Loops": 500,
                        },
                    ),
                ],
                **{"Actual Rows": 500},
            )
        ],
    )
    assert sql_review.plan_flags(plan) == [
        "rows-removed:task_messages",
        "seq-scan:tasks",
        "sort",
    ]


def test_small_sorts_and_catalog_scans_are_not_flagged() -> None:
    plan = node(
        "Sort",
        Plans=[node("Seq Scan", **{"Relation Name": "pg_class", "Actual Rows": 100})],
    )
    assert sql_review.plan_flags(plan) == []


def test_only_excused_flags_pass() -> None:
    query = Reviewed("tasks.sql", "get_task", "", {}, "", {}, 0.0, 0.0, ["sort", "seq-scan:tasks"])
    excuses = {("get_task", "sort"): "because"}
    assert sql_review.unexcused([query], excuses) == ["get_task: seq-scan:tasks"]


def test_every_excuse_has_a_reason_and_names_a_query() -> None:
    excuses = sql_review.read_excuses()
    names = sql_review.query_files()
    for (query, flag), reason in excuses.items():
        assert query in names, query
        assert flag == "sort" or flag.split(":")[0] in ("seq-scan", "rows-removed"), flag
        assert len(reason.split()) >= 5, (query, flag)


async def test_the_plan_report_has_every_query_and_no_unexcused_flag(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    url = fresh_database()
    reviewed, seeded, seconds = await sql_review.run_review(url, REDUCED)
    assert seeded["tasks"] == 20_000
    assert seeded["long logs"] == 100
    names = sql_review.query_files()
    assert [query.name for query in reviewed] == list(names)

    excuses = sql_review.read_excuses()
    report = sql_review.render(reviewed, REDUCED, excuses, seeded, seconds)
    (tmp_path / "sql-review.md").write_text(report)
    for query in reviewed:
        assert f"\n## {query.name}\n" in report
        assert query.execution_ms > 0, query.name
        assert query.plan["Node Type"], query.name
    assert sql_review.unexcused(reviewed, excuses) == [], f"see {tmp_path / 'sql-review.md'}"
