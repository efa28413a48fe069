"""An Ed-Fi ODS/API over a generated district, for the demo and the tests.

``create_simulator(data_dir, SimulatorConfig(...))`` returns a Starlette app
serving the OneRoster CSV set in ``data_dir`` as Ed-Fi resources
(:mod:`adapters.edfi._sim_data`), the way an ODS/API does:

- ``POST /oauth/token``: client credentials with HTTP Basic ``key:secret``
  (or ``client_id``/``client_secret`` in the form); anything else gets 401
  ``invalid_client``. Tokens live ``token_ttl`` seconds.
- ``GET {api_path}/{resource}``: ``offset``/``limit`` (default 25, at most
  500, else 400) with ``totalCount=true`` giving the ``Total-Count`` header,
  and search by example (``?schoolId=...``: equality, AND-ed; an unknown
  parameter gets 400). ``GET {api_path}/{resource}/{id}`` answers one item.
- Change Queries (:mod:`adapters.edfi._sim_changes`): the CSV folder is
  checked on every data request (one ``stat`` per file); when a file
  changed it is read again and every item created or modified since gets
  the next change version and a new ``_lastModifiedDate``, every item gone
  is tracked as deleted. ``GET {cq}/availableChangeVersions`` (``{cq}`` is
  ``/changeQueries/v1`` beside the data API) answers the oldest and newest
  version (``OldestChangeVersion`` as ODS/API 5.x writes it for DS 4,
  ``oldestChangeVersion`` as 6.x/7.x do for DS 5); ``minChangeVersion`` /
  ``maxChangeVersion`` on every collection keep the items whose version is
  in the range (in version order); ``{resource}/deletes`` lists the deleted
  items (``id``, ``changeVersion``, ``keyValues``: the natural key) and
  ``{resource}/keyChanges`` the key changes (none: a key changed in the files
  is a delete and a create), both paged and in the same ranges. With
  ``change_queries=False`` those routes answer 404 and the parameters 400,
  as an ODS with the feature off.
- Data Standard 4 names guardians ``parents``/``studentParentAssociations``,
  5 ``contacts``/``studentContactAssociations``; errors are ``{"message"}``
  (ODS/API 5.x) or RFC 9457 problem details (7.x) accordingly.
- Faults, from the config: a request rate past which it answers 429 with
  ``Retry-After``, added latency, a share of 5xx answers and a share of
  bodies cut short, optionally only under ``fault_paths``.

``app.state.simulator`` (a :class:`SimulatorState`) counts requests and can
revoke tokens, so tests can watch what a client did.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.edfi._query import searchable
from adapters.edfi._sim_changes import ChangeLog
from adapters.edfi._sim_data import SimulatedDistrict, load_district
from adapters.edfi.config import change_queries_path
from hub.sdk import FolderWatch

__all__ = ["SimulatorConfig", "SimulatorState", "create_simulator"]

Json = dict[str, Any]
_PAGING = frozenset({"offset", "limit", "totalCount"})
_MIN, _MAX = "minChangeVersion", "maxChangeVersion"
_RANGE = frozenset({_MIN, _MAX})
_PASCAL_VERSIONS = ("OldestChangeVersion", "NewestChangeVersion")
_CAMEL_VERSIONS = ("oldestChangeVersion", "newestChangeVersion")


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated ODS/API behaves.

    - ``data_standard``: ``"4"`` or ``"5"``; ``api_path``: where resources live.
    - ``key`` / ``secret``: the only client credentials accepted; ``token_ttl``: seconds.
    - ``default_limit`` / ``max_limit``: Ed-Fi's 25 and 500.
    - ``rate_limit_per_second``: past it, 429 with ``Retry-After: retry_after``.
    - ``latency``: seconds added to every data request.
    - ``error_rate`` / ``error_status``: that share of data requests answers
      ``error_status`` (drawn from a ``seed``-ed generator, so runs repeat).
    - ``truncate_rate``: that share of data answers is cut to half its body.
    - ``fault_paths``: faults apply only to paths starting with one of these
      (empty: every data path).
    - ``change_queries``: serve Change Queries (an ODS host can turn them off).
    """

    data_standard: str = "5"
    api_path: str = "/data/v3/ed-fi"
    key: str = "homeroom-sim"
    secret: str = "homeroom-sim-secret"
    token_ttl: int = 1800
    default_limit: int = 25
    max_limit: int = 500
    rate_limit_per_second: float | None = None
    retry_after: int = 1
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    truncate_rate: float = 0.0
    seed: int = 0
    fault_paths: tuple[str, ...] = ()
    change_queries: bool = True


@dataclass
class SimulatorState:
    """What the simulator saw, and a switch to revoke every token."""

    config: SimulatorConfig
    district: SimulatedDistrict
    data_requests: int = 0
    token_requests: int = 0
    tokens_issued: int = 0
    paths: list[str] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)
    _recent: collections.deque[float] = field(default_factory=collections.deque)
    _random: random.Random = field(default_factory=random.Random)
    _searchable: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    _parameters: dict[str, frozenset[str]] = field(default_factory=dict)
    changes: ChangeLog | None = None
    _watch: FolderWatch | None = None

    def revoke_tokens(self) -> None:
        """Forget every token issued so far (their next use gets 401)."""
        self._tokens.clear()

    def requests_to(self, resource: str) -> int:
        """How many data requests named ``resource``."""
        return sum(1 for path in self.paths if path.rstrip("/").split("/")[-1] == resource)


def create_simulator(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The simulated ODS/API over the OneRoster CSV set in ``data_dir``."""
    config = config or SimulatorConfig()
    if config.data_standard not in ("4", "5"):
        raise ValueError(f"unknown Ed-Fi data standard {config.data_standard!r}")
    watch = FolderWatch(Path(data_dir))  # before the read: a change made during it is seen next time
    district = load_district(watch.folder, config.data_standard)
    state = SimulatorState(config, district, _random=random.Random(config.seed))
    state.changes, state._watch = ChangeLog(district), watch
    _index(state)
    api = config.api_path.rstrip("/")
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/", _discovery(config), methods=["GET"]),
        Route("/oauth/token", _token_endpoint(state), methods=["POST"]),
        Route(
            change_queries_path(api) + "/availableChangeVersions",
            _available_versions(state),
            methods=["GET"],
        ),
        Route(api + "/{resource}", _collection(state), methods=["GET"]),
        # Before the item route: "deletes" is not an id.
        Route(api + "/{resource}/deletes", _tracked(state, "deletes"), methods=["GET"]),
        Route(api + "/{resource}/keyChanges", _tracked(state, "keyChanges"), methods=["GET"]),
        Route(api + "/{resource}/{id}", _single(state), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


def _index(state: SimulatorState) -> None:
    """The search values of every item, and each resource's search parameters."""
    state._searchable.clear()
    state._parameters.clear()
    for name, items in state.district.collections.items():
        values = [searchable(name, item) for item in items]
        state._searchable[name] = values
        state._parameters[name] = frozenset({"id"}).union(*values)


def _refresh(state: SimulatorState) -> None:
    """Serve the files as they are now: read them again when one changed
    (cheap otherwise: a ``stat`` per file)."""
    changes, watch = state.changes, state._watch
    if changes is None or watch is None or not watch.changed():
        return
    changes.update(load_district(watch.folder, state.config.data_standard))
    state.district = changes.served
    _index(state)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _discovery(config: SimulatorConfig) -> Any:
    async def root(request: Request) -> Response:
        version = "7.1" if config.data_standard == "5" else "5.3"
        standard = "5.0.0" if config.data_standard == "5" else "4.0.0"
        return JSONResponse(
            {
                "version": version,
                "dataModels": [{"name": "Ed-Fi", "version": standard}],
                "urls": {"oauth": "/oauth/token", "dataManagementApi": config.api_path},
            }
        )

    return root


def _error(
    config: SimulatorConfig, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """An error body as the ODS/API version of ``config`` writes it."""
    if config.data_standard == "4":
        return JSONResponse({"message": detail}, status_code=status, headers=headers)
    body = {
        "detail": detail,
        "type": f"urn:ed-fi:api:{'bad-request' if status == 400 else 'system'}",
        "title": "Bad Request" if status == 400 else "Error",
        "status": status,
        "correlationId": secrets.token_hex(8),
        "errors": [detail],
    }
    return Response(
        json.dumps(body), status_code=status, media_type="application/problem+json", headers=headers
    )


# -- auth ----------------------------------------------------------------------


def _token_endpoint(state: SimulatorState) -> Any:
    config = state.config

    async def token(request: Request) -> Response:
        state.token_requests += 1
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        key, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            key, _, secret = (unquote(part) for part in decoded.partition(":"))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        good = hmac.compare_digest(str(key or ""), config.key) and hmac.compare_digest(
            str(secret or ""), config.secret
        )
        if not good:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        access_token = secrets.token_hex(16)
        state._tokens[access_token] = time.monotonic() + config.token_ttl
        state.tokens_issued += 1
        return JSONResponse(
            {"access_token": access_token, "token_type": "bearer", "expires_in": config.token_ttl},
            headers={"Cache-Control": "no-store"},
        )

    return token


def _authorised(state: SimulatorState, request: Request) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    expires = state._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    return expires is not None and expires > time.monotonic()


# -- faults and throttling -------------------------------------------------------


def _faulty(config: SimulatorConfig, request: Request) -> bool:
    return not config.fault_paths or request.url.path.startswith(config.fault_paths)


async def _gate(state: SimulatorState, request: Request) -> Response | None:
    """Auth, rate limit and injected faults before a data request is answered."""
    config = state.config
    state.data_requests += 1
    state.paths.append(request.url.path)
    state.queries.append(dict(request.query_params))
    if not _authorised(state, request):
        # ODS/API: 401 without a body; the client gets a new token and retries.
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if config.rate_limit_per_second:
        now = time.monotonic()
        recent = state._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= config.rate_limit_per_second:
            return _error(config, 429, "too many requests", headers={"Retry-After": str(config.retry_after)})
        recent.append(now)
    if not _faulty(config, request):
        return None
    if config.latency:
        await asyncio.sleep(config.latency)
    if config.error_rate and state._random.random() < config.error_rate:
        return _error(config, config.error_status, "simulated failure")
    return None


def _answer(
    state: SimulatorState, request: Request, body: Any, headers: dict[str, str] | None = None
) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode()
    config = state.config
    if _faulty(config, request) and config.truncate_rate and state._random.random() < config.truncate_rate:
        content = content[: len(content) // 2]
    return Response(content, media_type="application/json", headers=headers)


# -- resources ---------------------------------------------------------------------


def _int(text: str | None, default: int) -> int | None:
    if text is None or text == "":
        return default
    return int(text) if text.isascii() and text.isdigit() else None


@dataclass(frozen=True, slots=True)
class _Window:
    """What a request asked: ``offset``/``limit``, ``totalCount``, and the change-version range."""

    offset: int
    limit: int
    count: bool
    low: int | None
    high: int | None

    @property
    def ranged(self) -> bool:
        """Whether ``minChangeVersion`` or ``maxChangeVersion`` was given."""
        return self.low is not None or self.high is not None

    def holds(self, version: int) -> bool:
        """Whether ``version`` is in the range (both bounds inclusive)."""
        return (self.low is None or version >= self.low) and (self.high is None or version <= self.high)

    def page(self, state: SimulatorState, request: Request, rows: list[Any]) -> Response:
        """``rows`` from ``offset``, at most ``limit``, with ``Total-Count`` when asked."""
        headers = {"Total-Count": str(len(rows))} if self.count else {}
        return _answer(state, request, rows[self.offset : self.offset + self.limit], headers)


def _window(state: SimulatorState, request: Request) -> _Window | Response:
    config = state.config
    query = request.query_params
    limit = _int(query.get("limit"), config.default_limit)
    offset = _int(query.get("offset"), 0)
    if limit is None or offset is None or limit > config.max_limit:
        return _error(
            config, 400, f"Limit must be omitted or set to a value between 0 and {config.max_limit}."
        )
    if query.get("totalCount", "false").lower() not in ("true", "false"):
        return _error(config, 400, "totalCount must be true or false")
    low, high = (query.get(name) for name in (_MIN, _MAX))
    if (low is not None or high is not None) and not config.change_queries:
        return _error(config, 400, "Change queries are not enabled.")
    bounds = [_int(value, 0) if value is not None else None for value in (low, high)]
    if any(value is not None and bound is None for value, bound in zip((low, high), bounds, strict=True)):
        return _error(config, 400, "minChangeVersion and maxChangeVersion must be non-negative integers")
    count = query.get("totalCount", "false").lower() == "true"
    return _Window(offset, limit, count, bounds[0], bounds[1])


def _collection(state: SimulatorState) -> Any:
    config = state.config

    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        name = request.path_params["resource"]
        items = state.district.collections.get(name)
        if items is None:
            return _error(config, 404, "the resource does not exist")
        window = _window(state, request)
        if isinstance(window, Response):
            return window
        searches = [
            (key, value) for key, value in request.query_params.multi_items() if key not in _PAGING | _RANGE
        ]
        known = state._parameters[name]
        unknown = [key for key, _ in searches if items and key not in known]
        if unknown:
            return _error(config, 400, "The request is invalid: unknown query parameter.")
        values = state._searchable[name]
        chosen = [
            item
            for item, searchable_values in zip(items, values, strict=True)
            if all(
                (item.get("id") if key == "id" else searchable_values.get(key)) == value
                for key, value in searches
            )
        ]
        if window.ranged and state.changes is not None:
            # A changed-items read: the items in the range, oldest change first (as the ODS orders them).
            versioned = [(state.changes.version(name, str(item.get("id"))), item) for item in chosen]
            chosen = [
                item for version, item in sorted(versioned, key=lambda pair: pair[0]) if window.holds(version)
            ]
        return window.page(state, request, chosen)

    return handle


def _tracked(state: SimulatorState, kind: str) -> Any:
    """``/deletes`` (the deletes tracked) or ``/keyChanges`` (none: see the module docstring)."""

    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        config, name = state.config, request.path_params["resource"]
        if not config.change_queries or state.changes is None or name not in state.district.collections:
            return _error(config, 404, "the resource does not exist")
        window = _window(state, request)
        if isinstance(window, Response):
            return window
        extra = [key for key in request.query_params if key not in _PAGING | _RANGE]
        if extra:
            return _error(config, 400, "The request is invalid: unknown query parameter.")
        rows: list[Json] = []
        if kind == "deletes":
            rows = [
                stone.as_json()
                for stone in state.changes.tombstones(name)
                if window.holds(stone.change_version)
            ]
        return window.page(state, request, rows)

    return handle


def _available_versions(state: SimulatorState) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        config = state.config
        if not config.change_queries or state.changes is None:
            return _error(config, 404, "the resource does not exist")
        # ODS/API 5.x (DS 4) writes the names in Pascal case, 6.x and 7.x in camel case.
        names = _PASCAL_VERSIONS if config.data_standard == "4" else _CAMEL_VERSIONS
        return _answer(
            state, request, dict(zip(names, (state.changes.oldest, state.changes.newest), strict=True))
        )

    return handle


def _single(state: SimulatorState) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        items = state.district.collections.get(request.path_params["resource"], [])
        found = next((item for item in items if item.get("id") == request.path_params["id"]), None)
        if found is None:
            return _error(state.config, 404, "the item does not exist")
        return _answer(state, request, found)

    return handle
