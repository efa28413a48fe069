"""The parts of authlib the toolkit uses, imported in one place.

authlib 1.9 prefers the ``httpx2`` package for its httpx integration and
warns (``AuthlibDeprecationWarning``) when it falls back to ``httpx``, which
is the client Homeroom uses. The warning is about authlib's future, not
about anything a user can fix, so it is silenced here, at the one import.
authlib ships no type information; its names are typed ``Any`` here.
"""

from __future__ import annotations

import importlib
import warnings

with warnings.catch_warnings():
    # authlib's own module turns its warnings "always" on when first imported:
    # import it first, then ignore them for the imports that follow.
    importlib.import_module("authlib.deprecate")
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        AsyncOAuth2Client,
        OAuth1Auth,
    )
    from authlib.oauth1.rfc5849.signature import (  # type: ignore[import-untyped]
        generate_signature_base_string,
    )
    from authlib.oauth1.rfc5849.util import escape  # type: ignore[import-untyped]

__all__ = [
    "AsyncOAuth2Client",
    "AuthlibBaseError",
    "OAuth1Auth",
    "escape",
    "generate_signature_base_string",
]
