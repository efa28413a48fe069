"""``homeroom config show``: the settings in effect (file, environment, secrets), secrets masked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.settings import SettingsError, load_settings
from hub.store import store_url

__all__ = ["config_app", "masked"]

config_app = typer.Typer(no_args_is_help=True, add_completion=False)

MASK = "********"
_SECRET_ENDINGS = (
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "credentials",
    "api_key",
    "private_key",
)
"""A key ending so holds a secret (``client_secret``, ``access_token``; not
``max_tokens`` nor ``token_url``)."""
_NAMES_NOT_VALUES = ("_env", "_file", "_path")
"""Keys that name where a secret is (a variable, a file), not the secret itself."""
_ALL_VALUES_SECRET = frozenset({"headers"})
"""Tables whose every value may be a credential (an ``Authorization`` header)."""
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]*)@")


def _hide_url_passwords(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` with the password hidden."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)


def masked(value: Any, key: str = "", *, secret: bool = False) -> Any:
    """``value`` with every secret replaced by a mask and every URL's password hidden."""
    lowered = key.lower()
    if isinstance(value, dict):
        inner = secret or lowered in _ALL_VALUES_SECRET
        return {k: masked(v, str(k), secret=inner) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, key, secret=secret) for v in value]
    if value in (None, "", [], {}):
        return value
    if secret or (lowered.endswith(_SECRET_ENDINGS) and not lowered.endswith(_NAMES_NOT_VALUES)):
        return MASK
    if isinstance(value, str):
        return _hide_url_passwords(value)
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
    # The URL the hub uses ($HOMEROOM_STORE_URL wins over [store] url).
    effective["store"]["url"] = store_url(settings)
    typer.echo(json.dumps(masked(effective), indent=2, sort_keys=True))
