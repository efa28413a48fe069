"""A bearer token kept in a file that something else renews.

Google access tokens live about an hour. The hub does not sign Google
service-account JWTs itself; a district's token broker (or a cron job with
``gcloud``) writes a fresh token to a file and this helper picks it up: the
file is read again whenever its modification time changes, and once more
when Google answers 401 to the token in hand.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import httpx

from hub.sdk import ConfigError, SourceAuthFailed, read_secret
from hub.sdk.http import SourceAuth, Timing

__all__ = ["FileBearerToken"]


class FileBearerToken(SourceAuth):
    """``Authorization: Bearer <contents of path>``, re-read when the file changes."""

    def __init__(self, source: str, path: str, *, hint: str = "") -> None:
        self._source = source
        self._path = path
        self.hint = hint
        self._stamp: int | None = None
        self._token = ""
        self._refresh()  # a missing or empty file is a start-up error (ConfigError)

    def bind(self, client: httpx.AsyncClient, source: str, timing: Timing) -> None:
        """Remember the source's name for error messages."""
        self._source = source

    def _refresh(self) -> None:
        try:
            stamp = os.stat(self._path).st_mtime_ns
        except OSError:
            stamp = None
        if stamp is not None and stamp == self._stamp:
            return
        self._token = read_secret(self._source, file=self._path, key="token_file")
        self._stamp = stamp

    def _current(self) -> str:
        try:
            self._refresh()
        except ConfigError as exc:
            # The broker broke the file after start-up: the source is down, not the hub.
            raise SourceAuthFailed(self._source, exc.reason) from None
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the file's token; on 401 send once more if the file holds a newer one."""
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._stamp = None  # read again even if the clock did not move
            renewed = self._current()
            if renewed != token:
                request.headers["Authorization"] = f"Bearer {renewed}"
                yield request

    def __repr__(self) -> str:
        return f"FileBearerToken({self._path!r}, <hidden>)"
