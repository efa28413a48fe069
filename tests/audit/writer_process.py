"""A separate process appending to a shared audit log (tests/audit/test_concurrency.py).

    python writer_process.py URL COUNT TAG

Prints ``ready`` once imported and connected, waits for a line on standard
input (so that several writers start together), appends COUNT events, and
prints ``done``.
"""

from __future__ import annotations

import asyncio
import sys

from hub.audit import AuditEvent, AuditLog
from hub.store import create_engine


async def main(url: str, count: int, tag: str) -> None:
    engine = create_engine(url)
    try:
        async with AuditLog(engine) as audit:
            async with engine.connect():  # connected before the start signal
                pass
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            for n in range(count):
                await audit.record(
                    AuditEvent.create(
                        "disclosure",
                        subject=f"process-{tag}",
                        roles=["teacher"],
                        fields={"Student": ["id", "givenName"]},
                        student_ids=[f"{tag}-{n}", "shared-student"],
                    )
                )
    finally:
        await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
