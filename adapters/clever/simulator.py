"""Clever's Data API (v3.0 or v3.1) over a generated district, for the demo and tests.

``create_simulator(data_dir, SimulatorConfig(...))`` returns a Starlette app
serving the OneRoster CSV set in ``data_dir`` the way Clever would (see
:mod:`adapters.clever._sim_data` for how records become Clever objects):

- ``Authorization: Bearer <token>`` with the configured district-app token;
  anything else gets 401 ``{"message": ...}``.
- ``/districts``, ``/schools``, ``/terms``, ``/courses``, ``/sections``,
  ``/users?role=...`` and each ``/{collection}/{id}``; the sub-resources
  ``/schools/{id}/users|sections``, ``/terms/{id}/sections``,
  ``/courses/{id}/sections``, ``/sections/{id}/users`` and
  ``/users/{id}/sections|mycontacts|mystudents|myteachers``.
- Lists answer ``{"data": [{"data": {...}, "uri": ...}], "links": [...]}``
  in ascending id order, paged with ``limit`` (413 above ``max_limit``),
  ``starting_after`` / ``ending_before`` and ``links`` rel ``next``/``prev``/``self``.
- Throttling: past ``rate_limit`` requests in a fixed window of
  ``rate_window`` seconds, 429 with ``X-RateLimit-Reset`` (the Unix time the
  window ends), as Clever does with 1,200 per minute.
- Faults: added latency, a share of ``error_status`` answers, a share of
  bodies cut short, optionally only under ``fault_paths``.
- Changes: each data request first checks the CSV folder (one ``stat`` per
  file); when a file changed it is read again and the differences are served
  from then on, with new ``last_modified`` stamps, and told as events
  (:mod:`adapters.clever._sim_changes`) at ``/events``: ``limit``,
  ``starting_after`` / ``ending_before`` (``ending_before=last`` is the end
  of the feed, so ``?ending_before=last&limit=1`` is the newest event),
  ``record_type`` (repeatable: ``users``, ``sections``, ...) and ``school``;
  an id no longer kept (older than ``event_retention``) is 404. And
  ``/events/{id}``.

``app.state.simulator`` (a :class:`SimulatorState`) counts requests and
holds the config, which tests may replace while the app runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.clever._sim_changes import RECORD_TYPES, RETENTION, EventLog
from adapters.clever._sim_data import CleverDistrict, load_district
from hub.sdk import FolderSignature, FolderWatch

__all__ = ["SimulatorConfig", "SimulatorState", "create_simulator"]

Json = dict[str, Any]
Finder = Callable[[CleverDistrict, str, Request], "list[Json] | None"]

_ROLES = frozenset({"student", "teacher", "staff", "district_admin", "contact"})


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated Clever behaves.

    - ``api_version``: ``"v3.0"`` or ``"v3.1"`` (the path prefix and the fields served).
    - ``token``: the one district-app bearer token accepted.
    - ``default_limit`` / ``max_limit``: page size without ``limit``; above
      ``max_limit`` the answer is 413.
    - ``rate_limit`` / ``rate_window``: requests per fixed window (seconds);
      past it 429 with ``X-RateLimit-Reset``. ``None``: no limit.
    - ``latency``: seconds added to every data request.
    - ``error_rate`` / ``error_status``: that share of data requests fails
      (drawn from a ``seed``-ed generator, so runs repeat).
    - ``truncate_rate``: that share of answers is cut to half its body.
    - ``fault_paths``: faults apply only under these path prefixes; empty: everywhere.
    - ``today``: the day rosters are taken on (default: the district's own).
    - ``wall_clock``: Unix time, for the rate window and the events' times
      (tests pass a fixed one).
    - ``event_retention``: seconds an event is kept (Clever: 30 days).
    """

    api_version: str = "v3.0"
    token: str = "homeroom-sim-district-token"
    default_limit: int = 100
    max_limit: int = 10_000
    rate_limit: int | None = None
    rate_window: float = 60.0
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    truncate_rate: float = 0.0
    seed: int = 0
    fault_paths: tuple[str, ...] = ()
    today: dt.date | None = None
    wall_clock: Callable[[], float] = time.time
    event_retention: float = RETENTION


@dataclass
class SimulatorState:
    """What the simulator saw, and the config in force (replaceable by tests).

    ``district`` is what is served now; ``events`` the change log behind it
    (``None`` for a state built by hand: then the folder is not watched).
    """

    config: SimulatorConfig
    district: CleverDistrict
    events: EventLog | None = None
    watch: FolderWatch | None = None
    data_requests: int = 0
    throttled: int = 0
    paths: list[str] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    _window: tuple[float, int] = (0.0, 0)
    _random: random.Random = field(default_factory=random.Random)

    def requests_to(self, prefix: str) -> int:
        """How many data requests had a path starting with ``prefix``."""
        return sum(1 for path in self.paths if path.startswith(prefix))


def create_simulator(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The simulated Clever over the OneRoster CSV set in ``data_dir``."""
    config = config or SimulatorConfig()
    if config.api_version not in ("v3.0", "v3.1"):
        raise ValueError(f"unknown Clever API version {config.api_version!r}")
    watch = FolderWatch(Path(data_dir))
    district = _district(watch.folder, watch.signature, config.api_version, config.today)
    state = SimulatorState(config, district, watch=watch, _random=random.Random(config.seed))
    state.events = EventLog(
        district,
        clock=lambda: dt.datetime.fromtimestamp(state.config.wall_clock(), dt.UTC),
        retention=config.event_retention,
    )
    prefix = f"/{config.api_version}"
    routes = [Route("/healthz", _healthz, methods=["GET"])]
    for route, finder, single, collection in _ENDPOINTS:
        handler = _one(state, finder) if single else _list(state, finder, collection)
        routes.append(Route(prefix + route, handler, methods=["GET"]))
    routes.append(Route(prefix + "/events", _events(state), methods=["GET"]))
    routes.append(Route(prefix + "/events/{id}", _event(state), methods=["GET"]))
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


@functools.lru_cache(maxsize=8)
def _district(path: Path, signature: FolderSignature, version: str, today: dt.date | None) -> CleverDistrict:
    # Shared by simulators over the same files (tests start many): the objects
    # are never changed after loading (stamps go on copies). ``signature``
    # makes a rewritten set reload.
    return load_district(path, version, today)


def _refresh(state: SimulatorState) -> None:
    """Serve the files as they are now: re-read them when any changed (telling
    the differences as events), and forget events past their retention.
    Cheap when nothing changed: a ``stat`` per file."""
    events, watch = state.events, state.watch
    if events is None or watch is None:
        return
    if watch.changed():
        config = state.config
        events.update(_district(watch.folder, watch.signature, config.api_version, config.today))
        state.district = events.served
    events.expire()


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)


# -- what each endpoint serves ------------------------------------------------------


def _all(collection: str) -> Finder:
    def find(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
        return d.collections[collection]

    return find


def _by_id(collection: str) -> Finder:
    def find(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
        found = d.find(collection, key)
        return [found] if found is not None else None

    return find


def _sections_where(attribute: str, parent: str) -> Finder:
    def find(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
        if d.find(parent, key) is None:
            return None
        return [s for s in d.collections["sections"] if s.get(attribute) == key]

    return find


def _users_of_school(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
    if d.find("schools", key) is None:
        return None
    roles = ("staff", "student", "teacher")
    return [
        user
        for user in d.collections["users"]
        if any(key in _schools_of(user["roles"].get(role)) for role in roles)
    ]


def _schools_of(role: Json | None) -> list[str]:
    return [role.get("school", ""), *role.get("schools", ())] if role else []


def _users_of_section(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
    section = d.find("sections", key)
    if section is None:
        return None
    return d.objects("users", [*section.get("students", ()), *section.get("teachers", ())])


def _user_links(kind: str) -> Finder:
    def find(d: CleverDistrict, key: str, request: Request) -> list[Json] | None:
        user = d.find("users", key)
        if user is None:
            return None
        if kind == "sections":
            return d.objects("sections", d.sections_of.get(key, []))
        if kind == "mycontacts":
            return d.objects("users", d.contacts_of.get(key, []))
        sections = d.objects("sections", d.sections_of.get(key, []))
        if kind == "myteachers":
            return d.objects("users", [t for s in sections if key in s["students"] for t in s["teachers"]])
        taught = [u for s in sections if key in s["teachers"] for u in s["students"]]
        return d.objects("users", d.students_of.get(key, []) + taught)

    return find


# (path, finder, one object?, collection of the objects served)
_ENDPOINTS: tuple[tuple[str, Finder, bool, str], ...] = (
    ("/districts", _all("districts"), False, "districts"),
    ("/districts/{id}", _by_id("districts"), True, "districts"),
    ("/schools", _all("schools"), False, "schools"),
    ("/schools/{id}", _by_id("schools"), True, "schools"),
    ("/schools/{id}/users", _users_of_school, False, "users"),
    ("/schools/{id}/sections", _sections_where("school", "schools"), False, "sections"),
    ("/terms", _all("terms"), False, "terms"),
    ("/terms/{id}", _by_id("terms"), True, "terms"),
    ("/terms/{id}/sections", _sections_where("term_id", "terms"), False, "sections"),
    ("/courses", _all("courses"), False, "courses"),
    ("/courses/{id}", _by_id("courses"), True, "courses"),
    ("/courses/{id}/sections", _sections_where("course", "courses"), False, "sections"),
    ("/sections", _all("sections"), False, "sections"),
    ("/sections/{id}", _by_id("sections"), True, "sections"),
    ("/sections/{id}/users", _users_of_section, False, "users"),
    ("/users", _all("users"), False, "users"),
    ("/users/{id}", _by_id("users"), True, "users"),
    ("/users/{id}/sections", _user_links("sections"), False, "sections"),
    ("/users/{id}/mycontacts", _user_links("mycontacts"), False, "users"),
    ("/users/{id}/mystudents", _user_links("mystudents"), False, "users"),
    ("/users/{id}/myteachers", _user_links("myteachers"), False, "users"),
)


# -- auth, throttling and faults -------------------------------------------------------


def _authorised(state: SimulatorState, request: Request) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), state.config.token)


def _throttled(state: SimulatorState) -> Response | None:
    """Clever's fixed window: ``rate_limit`` requests, then 429 until the window ends."""
    config = state.config
    if not config.rate_limit:
        return None
    now = config.wall_clock()
    start = math.floor(now / config.rate_window) * config.rate_window
    window, used = state._window
    if window != start:
        window, used = start, 0
    if used >= config.rate_limit:
        state.throttled += 1
        reset = math.ceil(start + config.rate_window)
        return _message(429, "rate limit exceeded", headers={"X-RateLimit-Reset": str(reset)})
    state._window = (window, used + 1)
    return None


def _faulty(state: SimulatorState, request: Request) -> bool:
    paths = state.config.fault_paths
    return not paths or request.url.path.startswith(paths)


async def _gate(state: SimulatorState, request: Request) -> Response | None:
    """Counting, auth, rate limit and injected faults before a data request is
    answered, and the folder's changes taken in."""
    config = state.config
    state.data_requests += 1
    state.paths.append(request.url.path)
    state.queries.append(dict(request.query_params))
    if not _authorised(state, request):
        return _message(401, "invalid or missing bearer token")
    _refresh(state)
    throttled = _throttled(state)
    if throttled is not None:
        return throttled
    if not _faulty(state, request):
        return None
    if config.latency:
        await asyncio.sleep(config.latency)
    if config.error_rate and state._random.random() < config.error_rate:
        return _message(config.error_status, "simulated failure")
    return None


def _answer(state: SimulatorState, request: Request, body: Json) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode()
    config = state.config
    if config.truncate_rate and _faulty(state, request) and state._random.random() < config.truncate_rate:
        content = content[: len(content) // 2]
    return Response(content, media_type="application/json")


# -- handlers ---------------------------------------------------------------------------


def _one(state: SimulatorState, finder: Finder) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        found = finder(state.district, request.path_params.get("id", ""), request)
        if not found:
            return _message(404, "Resource not found")
        self_link = {"rel": "self", "uri": request.url.path}
        return _answer(state, request, {"data": found[0], "links": [self_link]})

    return handle


def _list(state: SimulatorState, finder: Finder, collection: str) -> Any:
    uri = f"/{state.config.api_version}/{collection}/"

    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        query = request.query_params
        found = finder(state.district, request.path_params.get("id", ""), request)
        if found is None:
            return _message(404, "Resource not found")
        role = query.get("role")
        if role is not None:
            if role not in _ROLES:
                return _message(400, "role must be one of contact, district_admin, staff, student, teacher")
            found = [obj for obj in found if role in obj.get("roles", {})]
        limit = _limit(state, request)
        if isinstance(limit, Response):
            return limit
        window, links = _window(request, found, limit)
        data = [{"data": obj, "uri": uri + str(obj["id"])} for obj in window]
        return _answer(state, request, {"data": data, "links": links})

    return handle


def _limit(state: SimulatorState, request: Request) -> int | Response:
    """The page size asked for, or the refusal of a bad one."""
    text = request.query_params.get("limit", "")
    if text and not text.isdigit():
        return _message(400, "limit must be a positive integer")
    limit = int(text) if text else state.config.default_limit
    if limit > state.config.max_limit:
        return _message(413, f"limit must be at most {state.config.max_limit}")
    return max(limit, 1)


def _window(request: Request, found: list[Json], limit: int) -> tuple[list[Json], list[Json]]:
    """The page of ``found`` (in id order) that ``starting_after`` / ``ending_before``
    and ``limit`` select, and its ``links``. ``ending_before=last`` is the end."""
    query = request.query_params
    after, before = query.get("starting_after"), query.get("ending_before")
    window = [obj for obj in found if not after or obj["id"] > after]
    if before:
        window = [obj for obj in window if before == "last" or obj["id"] < before][-limit:]
    window = window[:limit]
    links = [{"rel": "self", "uri": _link(request, {})}]
    if window and found[-1]["id"] > window[-1]["id"]:  # lists are in id order
        links.append({"rel": "next", "uri": _link(request, {"starting_after": window[-1]["id"]})})
    if (after or before) and window:
        links.append({"rel": "prev", "uri": _link(request, {"ending_before": window[0]["id"]})})
    return window, links


def _events(state: SimulatorState) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        log = state.events
        query = request.query_params
        kinds = query.getlist("record_type")
        if set(kinds) - set(RECORD_TYPES):
            return _message(400, f"record_type must be among {', '.join(RECORD_TYPES)}")
        limit = _limit(state, request)
        if isinstance(limit, Response):
            return limit
        marks = (query.get("starting_after"), query.get("ending_before"))
        if any(mark and mark != "last" and (log is None or not log.known(mark)) for mark in marks):
            # Past the retention (or never one): the client must read in full again.
            return _message(404, "event not found (events are kept for 30 days)")
        found = log.select(kinds, query.get("school") or None) if log is not None else []
        window, links = _window(request, found, limit)
        return _answer(state, request, {"data": [{"data": event} for event in window], "links": links})

    return handle


def _event(state: SimulatorState) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        found = state.events.find(request.path_params["id"]) if state.events is not None else None
        if found is None:
            return _message(404, "Resource not found")
        return _answer(state, request, {"data": found, "links": [{"rel": "self", "uri": request.url.path}]})

    return handle


def _link(request: Request, changes: dict[str, str]) -> str:
    """This request's path and query with ``changes`` (relative, as Clever's links
    are); repeated parameters (``record_type``) are kept."""
    moved = ("starting_after", "ending_before")
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in moved]
    query.extend(changes.items())
    return f"{request.url.path}?{urlencode(query)}" if query else request.url.path
