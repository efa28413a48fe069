"""``homeroom config show``: the settings in effect (file, environment, secrets), secrets masked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.settings import SettingsError, load_settings
from hub.store import redact_url

__all__ = ["config_app", "masked"]

config_app = typer.Typer(no_args_is_help=True, add_completion=False)

MASK = "********"
_SECRET_KEY = re.compile(r"(secret|password|passwd|token|private|credential)", re.IGNORECASE)
_NAMES_NOT_VALUES = ("_env", "_file", "_path")
"""Keys that name where a secret is (a variable, a file), not the secret itself."""
_URL_KEYS = frozenset({"url", "redis_url", "store_url", "database_url"})


def masked(value: Any, key: str = "") -> Any:
    """``value`` with every secret replaced by a mask and every URL's password hidden."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, key) for v in value]
    if value in (None, "", [], {}):
        return value
    lowered = key.lower()
    if _SECRET_KEY.search(lowered) and not lowered.endswith(_NAMES_NOT_VALUES):
        return MASK
    if lowered in _URL_KEYS and isinstance(value, str):
        return redact_url(value)
    return value


@config_app.command("show")
def show(
    config: Annotated[Path, typer.Option(help="homeroom.toml")] = Path("homeroom.toml"),
) -> None:
    """Print the effective settings as JSON: homeroom.toml, then secret files, then
    HOMEROOM_<TABLE>__<KEY> variables, with secrets masked."""
    try:
        settings = load_settings(config if config.exists() else None)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    effective = settings.model_dump(mode="json", exclude={"base_dir"})
    typer.echo(json.dumps(masked(effective), indent=2, sort_keys=True))
