"""``homeroom demo``: a district in one command, generated or the district's own."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.auth import DevSigner
from hub.personas import Persona, pick_personas
from hub.sdk._report import LoadReport, render_report
from hub.settings import load_settings
from hub.testing import DistrictSpec, generate_district, is_generated, is_oneroster_set, read_generated_spec

SOURCE_NAME = "sis"
LMS_NAME = "lms"
# The demo listens on loopback only; its page offers persona tokens to this origin alone.
DEMO_HOST = "127.0.0.1"
# The default demo: the district's SIS behind a OneRoster REST API and its
# LMS behind Canvas, both simulated on loopback from the same generated
# people, who carry each vendor's own ids.
SIS_KIND, LMS_KIND = "oneroster-rest", "canvas"
IDENTITY = {
    "primary": SOURCE_NAME,
    "match": [
        {
            "source": LMS_NAME,
            "people": ["vendor_id=identifier", "email=email"],
            "sections": ["vendor_id=class_code"],
            "courses": [],
        }
    ],
}


@dataclass
class PreparedDemo:
    """A demo ready to serve (``close`` stops its simulators)."""

    app: Any
    personas: dict[str, Persona]
    tokens: dict[str, dict[str, Any]]
    data_dir: Path
    generated: bool
    counts: dict[str, int]
    rejected_rows: int
    sources: list[str] = field(default_factory=list)
    simulators: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    report: LoadReport | None = None

    def close(self) -> None:
        """Stop the vendor simulators this demo started."""
        self.simulators.close()

    def describe(self) -> str:
        origin = "synthetic district" if self.generated else "your OneRoster export"
        counts = ", ".join(f"{n} {e}" for e, n in sorted(self.counts.items()) if n)
        lines = [f"Serving {origin} from {self.data_dir}" + (f" ({counts})" if len(self.counts) > 3 else "")]
        lines += [f"  source {line}" for line in self.sources]
        lines += self._quality()
        missing = {"principal", "teacher", "guardian", "student"} - set(self.personas)
        if missing:
            lines.append(f"  no one in the data for: {', '.join(sorted(missing))} (no token for them)")
        return "\n".join(lines)

    def _quality(self) -> list[str]:
        """The data-quality summary of a district's own export (or of any set with
        problems): rows per file, the first problem groups, where the full report is."""
        report = self.report
        if report is None or not report.files or (self.generated and not report.problems):
            return [f"  {self.rejected_rows} rows were rejected"] if self.rejected_rows else []
        totals = report.totals()
        lines = [
            f"  data quality: {totals['read']} rows read, {totals['accepted']} accepted"
            f" ({totals['acceptedWithWarnings']} with warnings), {totals['rejected']} rejected,"
            f" {totals['skipped']} skipped as deleted"
        ]
        lines += [f"    {line}" for line in render_report(report, limit=_SUMMARY_GROUPS)]
        folder = shlex.quote(str(self.data_dir))
        lines.append(f"  full report: homeroom sources check --data-dir {folder} --details (or --json)")
        return lines


# Problem groups the demo prints; the full report has them all.
_SUMMARY_GROUPS = 10


def _needs_generation(data_dir: Path, spec: DistrictSpec) -> bool:
    if not is_oneroster_set(data_dir):
        return True
    if not is_generated(data_dir):
        return False  # a district's own export: serve it as it is
    existing = read_generated_spec(data_dir)
    return existing != spec


def simulated_sources(data_dir: Path, stack: contextlib.ExitStack) -> tuple[list[dict[str, Any]], list[str]]:
    """Start the SIS and LMS simulators on loopback and return their source
    tables (secrets go to this process's environment, as a real config names them)."""
    from hub.sdk import SimulatorOptions
    from hub.sources_cli import installed_simulators
    from hub.testing.server import serving

    tables: list[dict[str, Any]] = []
    described: list[str] = []
    for kind, name in ((SIS_KIND, SOURCE_NAME), (LMS_KIND, LMS_NAME)):
        spec = installed_simulators(kind).get(kind)
        if spec is None:
            raise ValueError(f"the {kind} simulator is not installed; run the demo with --sources csv")
        options = SimulatorOptions(
            client_id=f"demo-{name}", client_secret=secrets.token_urlsafe(24), source_name=name
        )
        base_url = stack.enter_context(serving(spec.create(data_dir, options), ready_path=spec.ready_path))
        os.environ.update(spec.environment(options))
        tables.append(spec.source_table(base_url, options))
        described.append(f"'{name}': {kind} simulator on {base_url}")
    return tables, described


async def prepare_demo(
    data_dir: Path,
    *,
    students: int,
    seed: int,
    signer: DevSigner,
    store_url: str | None = None,
    sources: str = "sis+lms",
    port: int = 8000,
) -> PreparedDemo:
    """Generate or reuse the data, open the sources, migrate the audit store
    (SQLite by default: no set-up) and choose the personas.

    ``sources="sis+lms"`` serves the district through a OneRoster REST SIS and
    a Canvas LMS (simulated here, each with its own ids, merged by the
    identity map); ``"csv"`` reads the OneRoster CSV files directly. ``port``
    is where the app will be served on :data:`DEMO_HOST`: the only origin
    whose GraphiQL page carries the persona tokens."""
    from hub.app import create_app
    from hub.assemble import assemble
    from hub.graphiql import PersonaSwitcher
    from hub.store import upgrade

    spec = DistrictSpec(students=students, seed=seed, today=dt.date.today())
    generated = is_generated(data_dir) or not is_oneroster_set(data_dir)
    if _needs_generation(data_dir, spec):
        if data_dir.exists() and any(data_dir.iterdir()) and not is_generated(data_dir):
            raise ValueError(
                f"{data_dir} is not empty and holds no OneRoster set (manifest.csv, users.csv, ...); "
                "choose an empty folder or a OneRoster CSV export"
            )
        generate_district(data_dir, spec)
        generated = True
    stack = contextlib.ExitStack()
    if sources == "csv" or not generated:
        # A district's own export is served as it is: the simulators imitate
        # vendors over generated data only.
        tables: list[dict[str, Any]] = [
            {"name": SOURCE_NAME, "kind": "oneroster-csv", "path": str(data_dir.resolve())}
        ]
        described = [f"'{SOURCE_NAME}': OneRoster CSV files in {data_dir}"]
        overrides: dict[str, Any] = {}
    else:
        tables, described = simulated_sources(data_dir.resolve(), stack)
        overrides = {"identity": IDENTITY}
        if store_url is None:
            # No database to mirror into: the simulated vendors are asked live.
            tables = [{**table, "mode": "live"} for table in tables]
    if store_url is not None:
        # The mirrored vendors are kept in the demo's own database, with its audit log.
        await upgrade(store_url)
        overrides["store"] = {"url": store_url}
    settings = load_settings(None, sources=tuple(tables), **overrides)
    hub = assemble(settings, [signer])
    if not await hub.registry.open():
        failed = {n: s.last_error for n, s in hub.registry.states.items() if s.state == "DOWN"}
        stack.close()
        raise ValueError(f"sources could not load {data_dir}: {failed}")
    await hub.match_identities(store_url)
    hub.ready = True
    personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
    report = hub.registry.states[SOURCE_NAME].report
    if hub.identity.merges or hub.identity.ambiguities:
        merged = sum(1 for _ in hub.identity.links())
        described.append(f"identity: {merged} records merged, {len(hub.identity.ambiguities)} kept apart")
    tokens = {name: persona.as_json(signer) for name, persona in personas.items()}
    switcher = PersonaSwitcher.for_demo(tokens, DEMO_HOST, port)
    app = create_app(hub, personas=switcher, store_url=store_url)
    return PreparedDemo(
        app=app,
        personas=personas,
        tokens=tokens,
        data_dir=data_dir,
        generated=generated,
        counts=dict(report.counts) if report else {},
        rejected_rows=len(report.rejected) if report else 0,
        report=report,
        sources=described,
        simulators=stack,
    )
