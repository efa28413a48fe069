"""The GraphiQL page served on ``GET /graphql``, with a persona switcher in
the demo so one query can be watched answering differently per persona.

Its scripts are served from ``hub/static/graphiql`` (vendored): the page loads
nothing from outside the district's network."""

from __future__ import annotations

import html
import json
from typing import Any

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


def graphiql_page(personas: dict[str, Any] | None = None) -> str:
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
