"""A OneRoster 1.1/1.2 REST provider over a generated district, for the demo and tests.

``create_simulator(data_dir, SimulatorConfig(...))`` returns a Starlette app
that serves the CSV set in ``data_dir`` the way a provider would:

- ``POST /token``: OAuth 2 client credentials (HTTP Basic or form); wrong
  credentials get 401 ``invalid_client``. With ``auth="oauth1"`` every data
  request must instead carry a valid OAuth 1.0a HMAC signature.
- 1.2: ``/ims/oneroster/rostering/v1p2/...`` and ``/ims/oneroster/gradebook/v1p2/...``;
  1.1: ``/ims/oneroster/v1p1/...``; both: Homeroom's extension endpoints
  ``/ims/oneroster/x-homeroom/v1/courseGrades`` and ``/attendance``.
- Collections page with ``limit``/``offset`` (``X-Total-Count`` and ``Link``
  first/prev/next/last), select with ``fields=``, filter with ``filter=``
  (the spec grammar, quoted values with doubled quotes, AND or OR), sort
  with ``sort``/``orderBy``; errors are ``imsx_StatusInfo`` bodies.
- Changes over time: the CSV folder is checked on every data request (one
  ``stat`` per file); rows that changed since the previous read get a new
  ``dateLastModified`` (now, UTC), rows gone from the files are served as
  ``status: "tobedeleted"`` (newly stamped) for ``keep_deleted`` seconds, and
  ``filter=dateLastModified>'<ISO date-time>'`` works on every collection, so
  a client can read just what changed (OneRoster 1.1/1.2 delta reads).
- Faults, from the config: a request rate past which it answers 429 with
  ``Retry-After``, added latency, a share of 5xx answers, a share of bodies
  cut short, JSON booleans instead of the spec's strings.

``app.state.simulator`` (a :class:`SimulatorState`) counts requests and can
revoke tokens, so tests can watch what a client did; ``GET /healthz`` reports
the counts (``dataRequests``, ``tokenRequests``) to a client in another process.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import collections
import datetime as dt
import functools
import hashlib
import hmac
import json
import math
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote
from urllib.request import parse_http_list, parse_keqv_list

from authlib.oauth1.rfc5849.signature import construct_base_string  # type: ignore[import-untyped]
from authlib.oauth1.rfc5849.util import escape  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.oneroster_rest._filter import Filter, FilterSyntaxError, instant, parse_filter, values_at
from adapters.oneroster_rest._sim_changes import ChangingDistrict
from adapters.oneroster_rest._sim_data import COLLECTION_FIELDS, SINGULAR, SimulatedDistrict, load_district
from hub.sdk import FolderSignature, folder_signature

__all__ = ["SimulatorConfig", "SimulatorState", "create_simulator"]

Json = dict[str, Any]
_RESTRICTED_TO_TYPE = {"schools": "school", "terms": "term", "gradingPeriods": "gradingPeriod"}


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated provider behaves.

    - ``version``: ``"1.2"`` or ``"1.1"``; ``auth``: ``"oauth2"`` or ``"oauth1"``.
    - ``client_id`` / ``client_secret``: the only credentials accepted.
    - ``token_ttl``: seconds a token lives.
    - ``max_page_size``: ``limit`` values above it are cut to it (as providers do).
    - ``max_filter_predicates``: longer filters get 400 (``None``: no limit).
    - ``max_url_length``: a data request whose path and query (as sent,
      URL-encoded) are longer gets 414 URI Too Long, as web servers answer
      (``None``: no limit beyond the HTTP server's own).
    - ``dotted_filters``: whether ``filter=class.sourcedId='x'`` is accepted.
    - ``rate_limit_per_second``: past it, 429 with ``Retry-After: retry_after``.
    - ``latency``: seconds added to every data request.
    - ``error_rate`` / ``error_status``: that share of data requests answers
      ``error_status`` (drawn from a ``seed``-ed generator, so runs repeat).
    - ``truncate_rate``: that share of data answers is cut to half its body.
    - ``fault_paths``: faults (latency, errors, truncation) apply only to
      request paths starting with one of these; empty: to every data path.
    - ``json_booleans``: send JSON ``true``/``false`` where the spec says strings.
    - ``extensions``: serve Homeroom's course grade and attendance endpoints.
    - ``keep_deleted``: seconds a row gone from the files is still served as
      ``tobedeleted`` (long enough for every delta reader to see it).
    """

    version: str = "1.2"
    auth: str = "oauth2"
    client_id: str = "homeroom-sim"
    client_secret: str = "homeroom-sim-secret"
    signature_method: str = "HMAC-SHA1"
    token_ttl: int = 3600
    max_page_size: int = 1000
    max_filter_predicates: int | None = None
    max_url_length: int | None = None
    dotted_filters: bool = True
    rate_limit_per_second: float | None = None
    retry_after: int = 1
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    truncate_rate: float = 0.0
    seed: int = 0
    fault_paths: tuple[str, ...] = ()
    json_booleans: bool = False
    extensions: bool = True
    href_base: str = "https://sis.example"
    keep_deleted: float = 86_400.0


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
    _indexes: dict[tuple[str, str], dict[str, list[int]] | None] = field(default_factory=dict)
    _views: dict[str, tuple[str, list[Json]]] = field(default_factory=dict)
    _modified: dict[str, tuple[list[dt.datetime], list[int]] | None] = field(default_factory=dict)
    _random: random.Random = field(default_factory=random.Random)
    _folder: Path | None = None
    _signature: FolderSignature = ()
    _changes: ChangingDistrict | None = None

    def revoke_tokens(self) -> None:
        """Forget every token issued so far (their next use gets 401)."""
        self._tokens.clear()


def _status_info(minor: str, description: str) -> Json:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }


def _error(status: int, minor: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(_status_info(minor, description), status_code=status, headers=headers)


def create_simulator(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The simulated provider over the OneRoster CSV set in ``data_dir``."""
    config = config or SimulatorConfig()
    if config.version not in ("1.1", "1.2"):
        raise ValueError(f"unknown OneRoster version {config.version!r}")
    path = Path(data_dir).resolve()
    signature = folder_signature(path)
    district = _district(path, signature, config.version, config.href_base, config.json_booleans)
    state = SimulatorState(config, district, _random=random.Random(config.seed))
    state._folder, state._signature = path, signature
    state._changes = ChangingDistrict(district, keep_deleted=config.keep_deleted)
    routes = [
        Route("/healthz", _healthz(state), methods=["GET"]),
        Route("/token", _token_endpoint(state), methods=["POST"]),
    ]
    for prefix, names in _services(config):
        for name in names:
            routes.append(Route(f"{prefix}/{name}", _collection(state, name), methods=["GET"]))
            routes.append(Route(f"{prefix}/{name}/{{sourcedId}}", _single(state, name), methods=["GET"]))
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


@functools.lru_cache(maxsize=8)
def _district(
    path: Path, signature: FolderSignature, version: str, href_base: str, json_booleans: bool
) -> SimulatedDistrict:
    # Shared by simulators over the same files (tests start many): the objects
    # are never changed after loading (stamps go on copies). ``signature``
    # makes a rewritten set reload.
    return load_district(path, version, href_base=href_base, json_booleans=json_booleans)


def _refresh(state: SimulatorState) -> None:
    """Serve the files as they are now: re-read them when any changed, and drop
    deleted rows kept long enough. Cheap when nothing changed (a stat per file)."""
    changes, folder = state._changes, state._folder
    if changes is None or folder is None:
        return
    signature = folder_signature(folder)
    if signature != state._signature:
        config = state.config
        fresh = _district(folder, signature, config.version, config.href_base, config.json_booleans)
        changes.update(fresh)
        state._signature = signature
    elif changes.expired():
        changes.update(changes.loaded)
    else:
        return
    state.district = changes.served
    state._views.clear()
    state._indexes.clear()
    state._modified.clear()


def _services(config: SimulatorConfig) -> list[tuple[str, tuple[str, ...]]]:
    rostering = (
        *("academicSessions", "classes", "courses", "demographics", "enrollments", "gradingPeriods"),
        *("orgs", "schools", "students", "teachers", "terms", "users"),
    )
    gradebook = ("categories", "lineItems", "results")
    services: list[tuple[str, tuple[str, ...]]]
    if config.version == "1.1":
        services = [("/ims/oneroster/v1p1", rostering + gradebook)]
    else:
        services = [
            ("/ims/oneroster/rostering/v1p2", rostering),
            ("/ims/oneroster/gradebook/v1p2", gradebook),
        ]
    if config.extensions:
        services.append(("/ims/oneroster/x-homeroom/v1", ("courseGrades", "attendance")))
    return services


def _healthz(state: SimulatorState) -> Any:
    # The counts let a client in another process (``bench.dashboard_load``)
    # read what the hub asked for; they are numbers only, never a path or a query.
    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "dataRequests": state.data_requests, "tokenRequests": state.token_requests}
        )

    return healthz


# -- auth ----------------------------------------------------------------------


def _token_endpoint(state: SimulatorState) -> Any:
    config = state.config

    async def token(request: Request) -> Response:
        state.token_requests += 1
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, client_secret = (unquote(part) for part in decoded.partition(":"))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        good = hmac.compare_digest(str(client_id or ""), config.client_id) and hmac.compare_digest(
            str(client_secret or ""), config.client_secret
        )
        if not good:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        access_token = secrets.token_urlsafe(24)
        state._tokens[access_token] = time.monotonic() + config.token_ttl
        state.tokens_issued += 1
        return JSONResponse(
            {"access_token": access_token, "token_type": "bearer", "expires_in": config.token_ttl},
            headers={"Cache-Control": "no-store"},
        )

    return token


def _authorised(state: SimulatorState, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if state.config.auth == "oauth1":
        return scheme == "OAuth" and _oauth1_valid(state.config, request, value)
    expires = state._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    return expires is not None and expires > time.monotonic()


def _oauth1_valid(config: SimulatorConfig, request: Request, value: str) -> bool:
    params = {key: unquote(item) for key, item in parse_keqv_list(parse_http_list(value)).items()}
    signature = params.pop("oauth_signature", "")
    if params.get("oauth_consumer_key") != config.client_id:
        return False
    if params.get("oauth_signature_method") != config.signature_method:
        return False
    query = [(key, item) for key, item in request.query_params.multi_items()]
    oauth = [(key, item) for key, item in params.items() if key != "realm"]
    url = str(request.url.replace(query=""))
    base_string = construct_base_string(request.method, url, query + oauth)
    digest = hashlib.sha256 if config.signature_method == "HMAC-SHA256" else hashlib.sha1
    key = f"{escape(config.client_secret)}&"
    expected = base64.b64encode(hmac.new(key.encode(), base_string.encode(), digest).digest()).decode()
    return hmac.compare_digest(expected, signature)


# -- faults and throttling -------------------------------------------------------


async def _gate(state: SimulatorState, request: Request) -> Response | None:
    """Auth, rate limit and injected faults before a data request is answered."""
    config = state.config
    state.data_requests += 1
    state.paths.append(request.url.path)
    state.queries.append(dict(request.query_params))
    if not _authorised(state, request):
        return _error(401, "unauthorisedrequest", "missing, unknown or expired credentials")
    if config.max_url_length is not None:
        path = request.scope.get("raw_path") or request.url.path.encode()
        if len(path) + 1 + len(request.scope.get("query_string", b"")) > config.max_url_length:
            return _error(414, "invaliddata", f"URI longer than {config.max_url_length} characters")
    if config.rate_limit_per_second:
        now = time.monotonic()
        recent = state._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= config.rate_limit_per_second:
            return _error(
                429, "server_busy", "too many requests", headers={"Retry-After": str(config.retry_after)}
            )
        recent.append(now)
    if config.fault_paths and not request.url.path.startswith(config.fault_paths):
        return None
    if config.latency:
        await asyncio.sleep(config.latency)
    if config.error_rate and state._random.random() < config.error_rate:
        minor = "server_busy" if config.error_status == 503 else "internal_server_error"
        return _error(config.error_status, minor, "simulated failure")
    return None


def _answer(
    state: SimulatorState, request: Request, body: Json, headers: dict[str, str] | None = None
) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode()
    config = state.config
    faulty = not config.fault_paths or request.url.path.startswith(config.fault_paths)
    if faulty and config.truncate_rate and state._random.random() < config.truncate_rate:
        content = content[: len(content) // 2]
    return Response(content, media_type="application/json", headers=headers)


# -- collections -----------------------------------------------------------------


def _objects(state: SimulatorState, name: str) -> tuple[str, list[Json]]:
    """(collection key, objects) an endpoint serves (the same list every time)."""
    view = state._views.get(name)
    if view is None:
        district = state.district
        if name in ("students", "teachers"):
            view = "users", district.students if name == "students" else district.teachers
        elif name in _RESTRICTED_TO_TYPE:
            key = "orgs" if name == "schools" else "academicSessions"
            wanted = _RESTRICTED_TO_TYPE[name]
            view = key, [obj for obj in district.collections[key] if obj.get("type") == wanted]
        else:
            view = name, district.collections[name]
        state._views[name] = view
    return view


def _index(
    state: SimulatorState, name: str, objects: list[Json], field_name: str
) -> dict[str, list[int]] | None:
    """Positions by text value of ``field_name`` (``None`` when it holds non-strings)."""
    key = (name, field_name)
    if key not in state._indexes:
        index: dict[str, list[int]] | None = collections.defaultdict(list)
        for position, obj in enumerate(objects):
            for leaf in values_at(obj, field_name):
                if not isinstance(leaf, str):
                    index = None
                    break
                assert index is not None
                index[leaf].append(position)
            if index is None:
                break
        state._indexes[key] = index
    return state._indexes[key]


def _by_modification(
    state: SimulatorState, name: str, objects: list[Json]
) -> tuple[list[dt.datetime], list[int]] | None:
    """``dateLastModified`` instants in order and the positions holding them
    (``None`` when one does not parse: the filter then tests every object)."""
    if name not in state._modified:
        pairs: list[tuple[dt.datetime, int]] = []
        for position, obj in enumerate(objects):
            moment = instant(str(obj.get("dateLastModified", "")))
            if moment is None:
                state._modified[name] = None
                return None
            pairs.append((moment, position))
        pairs.sort()
        state._modified[name] = ([moment for moment, _ in pairs], [position for _, position in pairs])
    return state._modified[name]


def _modified_after(
    state: SimulatorState, name: str, objects: list[Json], parsed: Filter
) -> list[Json] | None:
    """Objects of a delta read (``dateLastModified>`` or ``>=`` one instant) from
    an ordered index, or ``None`` when ``parsed`` is another filter."""
    if len(parsed.predicates) != 1:
        return None
    only = parsed.predicates[0]
    bound = instant(only.value)
    if only.field != "dateLastModified" or only.operator not in (">", ">=") or bound is None:
        return None
    ordered = _by_modification(state, name, objects)
    if ordered is None:
        return None
    moments, positions = ordered
    cut = bisect.bisect_right if only.operator == ">" else bisect.bisect_left
    return [objects[position] for position in sorted(positions[cut(moments, bound) :])]


def _select(state: SimulatorState, name: str, objects: list[Json], parsed: Filter) -> list[Json]:
    """The objects matching ``parsed``; equality filters and delta reads use an
    index, as a real provider would."""
    recent = _modified_after(state, name, objects, parsed)
    if recent is not None:
        return recent
    if all(p.operator == "=" for p in parsed.predicates):
        indexes = [_index(state, name, objects, p.field) for p in parsed.predicates]
        if all(index is not None for index in indexes):
            found = [
                set(index.get(p.value, ()))
                for index, p in zip(indexes, parsed.predicates, strict=True)
                if index is not None
            ]
            chosen = set.union(*found) if parsed.joiner == "OR" else set.intersection(*found)
            return [objects[position] for position in sorted(chosen)]
    return [obj for obj in objects if parsed.matches(obj)]


def _parse_filter(state: SimulatorState, key: str, text: str) -> Filter | Response:
    try:
        parsed = parse_filter(text)
    except FilterSyntaxError as exc:
        return _error(400, "invalid_filter_field", f"bad filter: {exc}")
    limit = state.config.max_filter_predicates
    if limit is not None and len(parsed.predicates) > limit:
        return _error(400, "invalid_filter_field", f"at most {limit} predicates")
    for item in parsed.predicates:
        top = item.field.split(".")[0]
        if top not in COLLECTION_FIELDS[key] or ("." in item.field and not state.config.dotted_filters):
            return _error(400, "invalid_filter_field", "unknown filter field")
    return parsed


def _int(text: str | None, default: int, minimum: int) -> int | None:
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < minimum:
        return None
    return int(text)


def _collection(state: SimulatorState, name: str) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        key, objects = _objects(state, name)
        query = request.query_params
        limit = _int(query.get("limit"), 100, 1)
        offset = _int(query.get("offset"), 0, 0)
        if limit is None or offset is None:
            return _error(400, "invaliddata", "limit must be 1 or more and offset 0 or more")
        limit = min(limit, state.config.max_page_size)
        if query.get("filter"):
            parsed = _parse_filter(state, key, query["filter"])
            if isinstance(parsed, Response):
                return parsed
            objects = _select(state, name, objects, parsed)
        fields = [part.strip() for part in query.get("fields", "").split(",") if part.strip()]
        unknown = [item for item in fields if item not in COLLECTION_FIELDS[key]]
        if unknown:
            return _error(400, "invalid_selection_field", "unknown field selected")
        if query.get("sort"):
            sort = query["sort"]
            if sort not in COLLECTION_FIELDS[key]:
                return _error(400, "invaliddata", "unknown sort field")
            objects = sorted(
                objects, key=lambda obj: str(obj.get(sort, "")), reverse=query.get("orderBy") == "desc"
            )
        total = len(objects)
        window = objects[offset : offset + limit]
        if fields:
            window = [{item: obj[item] for item in fields if item in obj} for obj in window]
        headers = {"X-Total-Count": str(total), "Link": _links(request, offset, limit, total)}
        return _answer(state, request, {key: window}, headers)

    return handle


def _links(request: Request, offset: int, limit: int, total: int) -> str:
    def link(rel: str, at: int) -> str:
        return f'<{request.url.include_query_params(limit=limit, offset=at)}>; rel="{rel}"'

    last = max(0, (math.ceil(total / limit) - 1) * limit)
    links = [link("first", 0)]
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    if offset + limit < total:
        links.append(link("next", offset + limit))
    links.append(link("last", last))
    return ", ".join(links)


def _single(state: SimulatorState, name: str) -> Any:
    async def handle(request: Request) -> Response:
        refused = await _gate(state, request)
        if refused is not None:
            return refused
        _refresh(state)
        key, objects = _objects(state, name)
        wanted = request.path_params["sourcedId"]
        found = next((obj for obj in objects if obj["sourcedId"] == wanted), None)
        if found is None:
            return _error(404, "unknownobject", "no such object")
        return _answer(state, request, {SINGULAR[key]: found})

    return handle
