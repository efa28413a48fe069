"""``homeroom demo``: a district in one command, generated or the district's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.auth import DevSigner
from hub.personas import Persona, pick_personas
from hub.settings import load_settings
from hub.testing import DistrictSpec, generate_district, is_generated, read_generated_spec

SOURCE_NAME = "sis"


@dataclass
class PreparedDemo:
    """A demo ready to serve."""

    app: Any
    personas: dict[str, Persona]
    tokens: dict[str, dict[str, Any]]
    data_dir: Path
    generated: bool
    counts: dict[str, int]
    rejected_rows: int

    def describe(self) -> str:
        origin = "synthetic district" if self.generated else "your OneRoster export"
        counts = ", ".join(f"{n} {e}" for e, n in sorted(self.counts.items()) if n)
        lines = [f"Serving {origin} from {self.data_dir} ({counts})"]
        if self.rejected_rows:
            lines.append(f"  {self.rejected_rows} rows were rejected; see the log for file and line")
        missing = {"principal", "teacher", "guardian", "student"} - set(self.personas)
        if missing:
            lines.append(f"  no one in the data for: {', '.join(sorted(missing))} (no token for them)")
        return "\n".join(lines)


def _needs_generation(data_dir: Path, spec: DistrictSpec) -> bool:
    if not (data_dir / "manifest.csv").exists():
        return True
    if not is_generated(data_dir):
        return False  # a district's own export: serve it as it is
    existing = read_generated_spec(data_dir)
    return existing != spec


async def prepare_demo(
    data_dir: Path, *, students: int, seed: int, signer: DevSigner, store_url: str | None = None
) -> PreparedDemo:
    """Generate or reuse the data, open the source, migrate the audit store
    (SQLite by default: no set-up) and choose the personas."""
    from hub.app import create_app
    from hub.assemble import assemble
    from hub.store import upgrade

    spec = DistrictSpec(students=students, seed=seed, today=dt.date.today())
    generated = is_generated(data_dir) or not (data_dir / "manifest.csv").exists()
    if _needs_generation(data_dir, spec):
        if data_dir.exists() and any(data_dir.iterdir()) and not is_generated(data_dir):
            raise ValueError(
                f"{data_dir} is not empty and holds no OneRoster manifest.csv; "
                "choose an empty folder or a OneRoster CSV export"
            )
        generate_district(data_dir, spec)
        generated = True
    settings = load_settings(
        None, sources=({"name": SOURCE_NAME, "kind": "oneroster-csv", "path": str(data_dir.resolve())},)
    )
    hub = assemble(settings, [signer])
    if not await hub.registry.open():
        state = hub.registry.states[SOURCE_NAME]
        raise ValueError(f"source '{SOURCE_NAME}' could not load {data_dir}: {state.last_error}")
    if store_url is not None:
        await upgrade(store_url)
    await hub.match_identities(store_url)
    hub.ready = True
    personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
    report = hub.registry.states[SOURCE_NAME].report
    tokens = {name: persona.as_json(signer) for name, persona in personas.items()}
    app = create_app(hub, personas=tokens, store_url=store_url)
    return PreparedDemo(
        app=app,
        personas=personas,
        tokens=tokens,
        data_dir=data_dir,
        generated=generated,
        counts=dict(report.counts) if report else {},
        rejected_rows=len(report.rejected) if report else 0,
    )
