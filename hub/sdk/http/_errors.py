"""Vendor error bodies reduced to a short, data-free summary, and the error
for a request the vendor refused as malformed."""

from __future__ import annotations

import json
import re
from typing import Any

from hub.sdk._errors import BadVendorData

__all__ = ["RequestRejected", "summarise_error_body"]

_MAX_SUMMARY = 160
# Error texts often echo the request ("no user 'Jane Doe'", "bad value 'x@y.org'"):
# quoted parts, e-mail addresses and long numbers are replaced before anything is kept.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_EMAIL = re.compile(r"\S+@\S+")
_NUMBER = re.compile(r"\d{4,}")
_SPACE = re.compile(r"\s+")


class RequestRejected(BadVendorData):
    """The vendor refused the request itself (400, 404, 405, 409, 422).

    Not retried: the same request would be refused again. ``status`` is the
    HTTP status and ``vendor_codes`` the machine-readable codes the body named
    (OneRoster ``imsx_codeMinorFieldValue``, OAuth ``error``, ...), so an
    adapter can react, e.g. stop pushing a filter a vendor does not support.
    """

    def __init__(self, source: str, reason: str, status: int, vendor_codes: tuple[str, ...] = ()) -> None:
        super().__init__(source, reason)
        self.status = status
        self.vendor_codes = vendor_codes


def _redact(text: str) -> str:
    text = _QUOTED.sub("'…'", text)
    text = _EMAIL.sub("…", text)
    text = _NUMBER.sub("…", text)
    return _SPACE.sub(" ", text).strip()


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def error_codes(payload: Any) -> tuple[str, ...]:
    """Machine-readable codes in a vendor error body (no free text)."""
    if not isinstance(payload, dict):
        return ()
    codes: list[str] = []
    minor = payload.get("imsx_CodeMinor")
    if isinstance(minor, dict):
        for item in minor.get("imsx_codeMinorField") or ():
            if isinstance(item, dict) and isinstance(item.get("imsx_codeMinorFieldValue"), str):
                codes.append(item["imsx_codeMinorFieldValue"])
    for key in ("error", "errorcode", "code", "status_code"):
        codes.extend(_strings(payload.get(key)))
    return tuple(dict.fromkeys(code for code in codes if re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", code)))


def _texts(payload: Any) -> list[str]:
    """Human-readable parts of the known error envelopes, most specific first."""
    if not isinstance(payload, dict):
        return []
    texts: list[str] = []
    for key in ("imsx_description", "error_description", "title", "message", "detail"):
        texts.extend(_strings(payload.get(key)))
    errors = payload.get("errors")
    if isinstance(errors, list):
        for item in errors[:2]:
            if isinstance(item, dict):
                texts.extend(_strings(item.get("message")))
            texts.extend(_strings(item))
    nested = payload.get("error")
    if isinstance(nested, dict):  # Google's envelope: {"error": {"status", "message"}}
        texts.extend(_strings(nested.get("status")))
        texts.extend(_strings(nested.get("message")))
    return texts


def summarise_error_body(body: bytes, content_type: str = "") -> tuple[str, tuple[str, ...]]:
    """A short summary of a vendor's error body, and the codes it names.

    Reads the envelopes vendors use (OneRoster ``imsx_StatusInfo``, OAuth
    errors, RFC 9457 problem details, ``{"message"}``, ``{"errors": [...]}``,
    Google's ``{"error": {...}}``). Quoted values, e-mail addresses and long
    numbers are blanked and the result is clipped, so the summary can go into
    a GraphQL error and a log without carrying a record's contents.
    """
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    codes = error_codes(payload)
    parts = [*codes, *(_redact(text) for text in _texts(payload))]
    parts = [part for part in dict.fromkeys(parts) if part]
    if parts:
        return _clip("; ".join(parts)), codes
    if not body:
        return "empty body", codes
    kind = content_type.split(";")[0].strip() or "unknown type"
    return f"{'unreadable ' if payload is None else ''}body ({kind}, {len(body)} bytes)", codes
