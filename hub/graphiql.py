"""The GraphiQL page served on ``GET /graphql``, with a persona switcher in
the demo so one query can be watched answering differently per persona.

Its scripts are served from ``hub/static/graphiql`` (vendored): the page loads
nothing from outside the district's network. The switcher's tokens (the
district admin's among them) are put in the page only for the demo's own
origin: see :class:`PersonaSwitcher`."""

from __future__ import annotations

import html
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PersonaSwitcher", "graphiql_page"]

# Sec-Fetch-Site values of a page the user opened themselves (typed, bookmarked,
# reloaded) or that the demo's own pages led to; a browser sends one of these
# or, when it is older, none at all.
_OWN_NAVIGATION = frozenset({"same-origin", "none"})

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Homeroom GraphQL</title>
<meta name="robots" content="noindex">
<link rel="stylesheet" href="/static/graphiql/graphiql.min.css">
<style>
  body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
  #bar { padding: 6px 12px; background: #1f2937; color: #f9fafb; display: flex; gap: 12px; align-items: center; }
  #bar select, #bar input { font-size: 14px; padding: 3px 6px; }
  #bar input { flex: 1; font-family: monospace; }
  #graphiql { flex: 1; }
</style>
</head>
<body>
<div id="bar">
  <strong>Homeroom</strong>
  <label>Sign in as <select id="persona">__OPTIONS__</select></label>
  <input id="token" placeholder="bearer token" autocomplete="off" spellcheck="false">
</div>
<div id="graphiql">Loading GraphiQL&hellip;</div>
<script src="/static/graphiql/react.production.min.js"></script>
<script src="/static/graphiql/react-dom.production.min.js"></script>
<script src="/static/graphiql/graphiql.min.js"></script>
<script>
  const personas = __PERSONAS__;
  const select = document.getElementById("persona");
  const tokenInput = document.getElementById("token");
  function choose() {
    const p = personas[select.value];
    if (p) { tokenInput.value = p.token; }
  }
  select.addEventListener("change", choose);
  choose();
  const fetcher = async (params) => {
    const headers = {"Content-Type": "application/json"};
    if (tokenInput.value.trim()) { headers["Authorization"] = "Bearer " + tokenInput.value.trim(); }
    const response = await fetch(window.location.pathname, {method: "POST", headers, body: JSON.stringify(params)});
    return response.json();
  };
  const query = `# Switch persona above and run the same query again: each sees
# only the students in their care. Add birthDate or programs to a
# student to watch the policy gate refuse a teacher or a guardian.
query Dashboard {
  viewer {
    subject
    roles
    person { givenName familyName }
    students(first: 5) {
      edges { node { id givenName familyName gradeLevel school { name } } }
    }
    sections(first: 3) { edges { node { title } } }
  }
}`;
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {fetcher, defaultQuery: query})
  );
</script>
</body>
</html>
"""


def _host_header(host: str, port: int) -> str:
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        version = 4
    return f"[{host}]:{port}" if version == 6 else f"{host}:{port}"


@dataclass(frozen=True)
class PersonaSwitcher:
    """The demo's persona tokens and the only origin whose page may carry them.

    The demo listens on loopback, yet any web page the user opens can reach it
    (DNS rebinding, or a frame or link from another site). Tokens are embedded
    only when the request's ``Host`` is the demo's own ``host:port`` (or
    ``localhost:port``) and the browser does not say it came from another site.
    """

    personas: Mapping[str, Mapping[str, Any]]
    hosts: frozenset[str]

    @classmethod
    def for_demo(cls, personas: Mapping[str, Mapping[str, Any]], host: str, port: int) -> PersonaSwitcher:
        """The switcher of a demo bound to ``host``:``port``."""
        return cls(personas, frozenset({_host_header(host, port), _host_header("localhost", port)}))

    def personas_for(self, headers: Mapping[str, str]) -> Mapping[str, Mapping[str, Any]]:
        """The personas the page for a request with ``headers`` may embed (maybe none)."""
        host = headers.get("host", "").lower()
        site = headers.get("sec-fetch-site")
        if host in self.hosts and (site is None or site.lower() in _OWN_NAVIGATION):
            return self.personas
        return {}


def graphiql_page(personas: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The HTML page; ``personas`` maps a name to ``{"token": ...}`` (demo only)."""
    personas = personas or {}
    options = "".join(
        f'<option value="{html.escape(name)}">{html.escape(name)}</option>' for name in personas
    )
    options = options or '<option value="">paste a token</option>'
    safe = {name: {"token": p["token"]} for name, p in personas.items()}
    # Keep "</script>" out of the inline JSON whatever a token holds.
    data = json.dumps(safe).replace("<", "\\u003c")
    return _PAGE.replace("__OPTIONS__", options).replace("__PERSONAS__", data)
