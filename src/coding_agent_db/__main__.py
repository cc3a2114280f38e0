"""Maintenance commands: ``python -m coding_agent_db <command>``.

- ``rotate-keys``: re-encrypt every secret under ``ENCRYPTION_KEY`` (see
  ``coding_agent_db.rotation``); exits 1 if some value could not be decrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from coding_agent_db.pool import close_pool
from coding_agent_db.rotation import rotate_keys

SHOWN_UNREADABLE = 20


async def _rotate_keys(batch_size: int) -> int:
    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} rows", end="", flush=True)

    try:
        report = await rotate_keys(batch_size=batch_size, on_progress=progress)
    finally:
        await close_pool()
    print(f"\nrewrote {report.rewritten} of {report.rows} rows under the current key")
    if report.unreadable:
        print(f"{len(report.unreadable)} values could not be decrypted and were left as they were:")
        for where in report.unreadable[:SHOWN_UNREADABLE]:
            print(f"  {where}")
        if len(report.unreadable) > SHOWN_UNREADABLE:
            print(f"  ... and {len(report.unreadable) - SHOWN_UNREADABLE} more")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coding_agent_db")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser("rotate-keys", help="re-encrypt every secret under ENCRYPTION_KEY")
    rotate.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args(argv)
    return asyncio.run(_rotate_keys(args.batch_size))


if __name__ == "__main__":
    sys.exit(main())
