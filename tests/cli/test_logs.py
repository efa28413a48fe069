"""``homeroom serve --log-format json``: every line is a JSON object, the lines of a request
carry its id, and the access log holds neither query strings nor tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from hub.testing import DistrictSpec, generate_district
from tests.cli import needs_console_script, run_to_exit, running

pytestmark = needs_console_script


def _config(root: Path) -> Path:
    generate_district(root / "district", DistrictSpec(students=50, seed=11))
    path = root / "homeroom.toml"
    path.write_text(
        '[server]\nhost = "127.0.0.1"\n\n[auth]\ndev_key_file = "dev.key"\n\n[policy]\nwatch = false\n\n'
        f'[store]\nurl = "sqlite+aiosqlite:///{root / "hub.db"}"\n\n'
        '[[sources]]\nname = "sis"\nkind = "oneroster-csv"\npath = "district"\n',
        encoding="utf-8",
    )
    return path


def test_json_lines_with_request_ids_and_an_access_log_without_queries_or_tokens(tmp_path: Path) -> None:
    config = _config(tmp_path)
    token = run_to_exit(
        ["token", "--config", str(config), "--role", "district_admin"], cwd=tmp_path
    ).stdout.strip()
    args = ["serve", "--config", str(config), "--port", "{port}", "--log-format", "json"]
    with running(args, cwd=tmp_path) as server:
        answered = httpx.post(
            f"{server.base_url}/graphql?student=Jane-Doe-4711",
            json={"query": "query Secret { students(first: 1) { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-abc-123"},
        )
        assert answered.status_code == 200
        ours = answered.headers["x-request-id"]
        assert ours != "req-abc-123" and len(ours) == 16  # the hub's own, never the caller's
        made = httpx.get(f"{server.base_url}/livez", headers={"X-Request-ID": "not a plain id; <script>"})
        assert made.headers["x-request-id"] != ours
        httpx.get(f"{server.base_url}/students/Jane-Doe-4711")
        time.sleep(0.5)
        stderr = server.stderr()
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # each line is JSON
    assert lines and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "homeroom.access"]
    mine = [line for line in access if line["request_id"] == ours]
    assert len(mine) == 1 and mine[0]["message"].startswith("POST /graphql 200")
    assert any(line["request_id"] == made.headers["x-request-id"] for line in access)
    assert any(line["message"].startswith("GET other 404") for line in access)
    for secret in ("Jane", "4711", token, "Secret", "<script>", "req-abc-123"):
        assert secret not in stderr, secret
