"""Hot reload: swap in a changed policy only after it loads and passes its tests.

The store holds one engine at a time. A request reads ``store.current`` once
and keeps that engine to the end, so a swap never changes the rules under a
request in flight. A change that fails to load or fails a test case leaves the
running policy in place and says why.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from watchfiles import Change, awatch

from hub.policy.catalogue import Catalogue
from hub.policy.engine import PolicyEngine
from hub.policy.files import PolicyError, PolicyProblem
from hub.policy.suite import run_suite

logger = logging.getLogger("homeroom.policy")

_WATCHED_SUFFIXES = (".conf", ".csv", ".yaml", ".yml")


class PolicyRejected(PolicyError):
    """A policy folder that does not load or does not pass its tests.

    ``problems`` holds one entry per load error or failed expectation, each
    with file:line; ``reason`` is the summary followed by all of them.
    """

    def __init__(self, summary: str, problems: Sequence[PolicyProblem]) -> None:
        self.summary = summary
        super().__init__(problems)

    @property
    def reason(self) -> str:
        """The summary line and every problem, one per line."""
        return "\n".join([f"{self.summary}:", *(str(problem) for problem in self.problems)])

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What one reload attempt did.

    ``swapped`` when a new policy version took over; ``reason`` is set when the
    change was refused (the previous policy stays); neither when the folder
    still says the same thing.
    """

    swapped: bool
    version: str
    previous_version: str
    reason: str | None
    at: datetime

    @property
    def accepted(self) -> bool:
        """Whether the folder's content is now in force."""
        return self.reason is None


def load_checked_engine(directory: Path, catalogue: Catalogue) -> PolicyEngine:
    """An engine for ``directory`` that has passed ``check`` and the folder's test cases.

    Raises ``PolicyRejected`` (a ``PolicyError``) with every load problem or every failed case.
    """
    try:
        engine = PolicyEngine.from_dir(directory, catalogue)
        report = run_suite(engine, directory)
    except PolicyError as exc:
        raise PolicyRejected("policy does not load", exc.problems) from exc
    if not report.passed:
        failures = [
            PolicyProblem(result.case.where, f"{result.case.name}: {failure}")
            for result in report.failed
            for failure in result.failures
        ]
        summary = f"{len(report.failed)} of {len(report.results)} policy test cases failed"
        raise PolicyRejected(summary, failures)
    return engine


class PolicyStore:
    """The policy in force, and the machinery to replace it safely.

    The constructor loads ``directory`` and raises ``PolicyRejected`` (a
    ``PolicyError``) if it is not usable: a hub must not start without a
    policy it trusts.
    """

    def __init__(self, directory: Path, catalogue: Catalogue) -> None:
        self.directory = directory
        self.catalogue = catalogue
        self._current = load_checked_engine(directory, catalogue)
        self.last_error: str | None = None
        self.last_reload_at: datetime | None = None
        self._reloading = threading.Lock()

    @property
    def current(self) -> PolicyEngine:
        """The engine in force; read it once per request and keep it."""
        return self._current

    @property
    def version(self) -> str:
        """The version of the policy in force."""
        return self._current.version

    def try_reload(self) -> ReloadOutcome:
        """Load the folder again; swap it in only if it loads and its tests pass."""
        with self._reloading:
            previous = self._current
            at = datetime.now(UTC)
            self.last_reload_at = at
            try:
                candidate = load_checked_engine(self.directory, self.catalogue)
            except PolicyRejected as exc:
                return self._refuse(previous, exc.reason, at)
            except Exception as exc:  # a reload must never take the watcher (or the hub) down
                return self._refuse(previous, f"policy could not be loaded: {type(exc).__name__}: {exc}", at)
            self.last_error = None
            if candidate.version == previous.version:
                return ReloadOutcome(False, previous.version, previous.version, None, at)
            self._current = candidate
            logger.info("policy version %s replaces %s", candidate.version, previous.version)
            return ReloadOutcome(True, candidate.version, previous.version, None, at)

    def _refuse(self, previous: PolicyEngine, reason: str, at: datetime) -> ReloadOutcome:
        self.last_error = reason
        logger.warning("policy change refused; still using version %s: %s", previous.version, reason)
        return ReloadOutcome(False, previous.version, previous.version, reason, at)

    async def watch(
        self,
        stop_event: asyncio.Event,
        *,
        on_outcome: Callable[[ReloadOutcome], None] | None = None,
        debounce_ms: int = 1600,
        force_polling: bool | None = None,
        poll_delay_ms: int = 300,
    ) -> None:
        """Reload whenever a policy, model or test file in the folder changes, until ``stop_event``.

        Loading runs in a worker thread so requests keep being served meanwhile.
        ``on_outcome`` (e.g. to record reload history) gets every attempt.
        """
        async for _changes in awatch(
            self.directory,
            stop_event=stop_event,
            watch_filter=_is_policy_file,
            debounce=debounce_ms,
            force_polling=force_polling,
            poll_delay_ms=poll_delay_ms,
        ):
            outcome = await asyncio.to_thread(self.try_reload)
            if on_outcome is not None:
                on_outcome(outcome)


def _is_policy_file(change: Change, path: str) -> bool:
    # Editors' swap and backup files end otherwise, so they do not trigger reloads.
    return path.endswith(_WATCHED_SUFFIXES)
