"""Re-reading a OneRoster CSV set when its files change (the CSV source's change feed).

A district's SIS drops a new export into the folder (or replaces the zip)
every night or every hour; the source picks it up without a restart. The
watcher waits until the files have been quiet for ``debounce_ms`` (an export
is written file by file), then calls ``reload``; a reload that fails keeps
the set already served, and the next change tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

from hub.sdk import FolderSignature, folder_signature

__all__ = ["SetWatcher", "set_signature"]

log = logging.getLogger("homeroom.sources")

_WATCHED_SUFFIXES = (".csv", ".zip")


def set_signature(path: Path) -> FolderSignature:
    """The modification times and sizes of a set's files (a folder's CSV files, or the zip)."""
    if path.is_dir():
        return folder_signature(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        return ()
    return ((path.name, status.st_mtime_ns, status.st_size),)


class SetWatcher:
    """Calls ``reload`` after the set at ``path`` (a folder or a ``.zip``) changed.

    ``start`` and ``stop`` may be called more than once; ``stop`` waits for the
    watcher to end. ``force_polling`` suits file systems without change
    notifications (network shares, some container volumes).
    """

    def __init__(
        self,
        source: str,
        path: Path,
        reload: Callable[[], Awaitable[None]],
        *,
        debounce_ms: int = 1_000,
        force_polling: bool = False,
        poll_delay_ms: int = 1_000,
        check_ms: int = 5_000,
    ) -> None:
        self.source = source
        self.check_ms = check_ms
        self.read_signature: FolderSignature | None = None
        """The files' signature taken just before the set served was read (``reload`` sets it)."""
        self.path = path
        self.reload = reload
        self.debounce_ms = debounce_ms
        self.force_polling = force_polling
        self.poll_delay_ms = poll_delay_ms
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the watcher is watching."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin watching (no-op when already watching)."""
        if self.running:
            return
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._watch(), name=f"watch set {self.source}")

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _watch(self) -> None:
        # A zip is replaced, not edited: watch its folder for that one name.
        folder = self.path if self.path.is_dir() else self.path.parent
        wanted = None if self.path.is_dir() else self.path.resolve()

        def relevant(change: Change, changed: str) -> bool:
            if wanted is not None:
                return Path(changed).resolve() == wanted
            return changed.endswith(_WATCHED_SUFFIXES)

        refused: FolderSignature | None = None
        async for changes in awatch(
            folder,
            stop_event=self._stop,
            watch_filter=relevant,
            debounce=self.debounce_ms,
            force_polling=self.force_polling,
            poll_delay_ms=self.poll_delay_ms,
            recursive=False,
            # Also wake up now and then to compare the files with the set read:
            # a change made before the watch began (or one a notification
            # missed) is caught within ``check_ms``.
            yield_on_timeout=True,
            rust_timeout=self.check_ms,
        ):
            current = set_signature(self.path)
            if not changes and current in (self.read_signature, refused):
                continue
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the set on file is broken: keep serving the last good one
                refused = current  # not tried again until the files move on
                log.warning(
                    "source %s: the changed files could not be read (%s); still serving the previous set",
                    self.source,
                    type(exc).__name__,
                )
