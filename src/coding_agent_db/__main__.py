"""Maintenance commands: ``python -m coding_agent_db <command>``.

- ``rotate-keys``: re-encrypt every secret under ``ENCRYPTION_KEY`` (see
  ``coding_agent_db.rotation``); exits 1 if some value could not be decrypted.
  ``--verify`` also decrypts the values already under the current key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from coding_agent_db.pool import close_pool
from coding_agent_db.rotation import rotate_keys

SHOWN_UNREADABLE = 20


async def _rotate_keys(batch_size: int, verify: bool) -> int:
    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} rows", end="", flush=True)

    try:
        report = await rotate_keys(batch_size=batch_size, on_progress=progress, verify=verify)
    finally:
        await close_pool()
    print(f"\nrewrote {report.rewritten} of {report.rows} rows under the current key")
    if report.unreadable:
        print(f"{len(report.unreadable)} values could not be decrypted and were left as they were:")
        for where in report.unreadable[:SHOWN_UNREADABLE]:
            print(f"  {where}")
        if len(report.unreadable) > SHOWN_UNREADABLE:
            print(f"  ... and {len(report.unreadable) - SHOWN_UNREADABLE} more")
    if report.legacy_remaining:
        print(
            f"{report.legacy_remaining} values are still in the legacy format: "
            "keep ENCRYPTION_LEGACY_READS on"
        )
    else:
        print("no value is in the legacy format: ENCRYPTION_LEGACY_READS=off is safe")
    return 1 if report.unreadable else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coding_agent_db")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser("rotate-keys", help="re-encrypt every secret under ENCRYPTION_KEY")
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.add_argument(
        "--verify",
        action="store_true",
        help="also decrypt the values already under the current key, reporting damaged ones",
    )
    args = parser.parse_args(argv)
    return asyncio.run(_rotate_keys(args.batch_size, args.verify))


if __name__ == "__main__":
    sys.exit(main())
