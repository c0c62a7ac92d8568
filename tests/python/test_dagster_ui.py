"""Smoke test: `dg dev` (as `make dagster` starts it) serves the UI and the
asset graph, then stops, without a deprecation notice on the way."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dbt_project_harness import REPO

ASSET_QUERY = """
{
  assetNodes {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""
# What Dagster prints for a command, API or setting on its way out: its
# warning classes and the words of its notices ("... is superseded ... Use
# 'dg dev' instead", "... is deprecated and will be removed in 2.0").
DEPRECATION_NOTICE = re.compile(
    r"(Deprecation|Supersession|Beta|Preview)Warning|is deprecated|superseded|Use 'dg "
)
LOCATION_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_dg_dev_serves_the_asset_graph_with_checks(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "orchestration/dagster.yaml", home / "dagster.yaml")
    port = free_port()
    dg = Path(sys.executable).with_name("dg")
    env = {
        **os.environ,
        # As `make dagster` does: the venv active (its dbt first on PATH), its
        # own instance home; dg finds the project in pyproject.toml ([tool.dg]).
        "PATH": f"{dg.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": sys.prefix,
        "DAGSTER_HOME": str(home),
        "PIPELINE_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
    }
    command = [str(dg), "dev", "-h", "127.0.0.1", "-p", str(port)]
    log = (tmp_path / "dagster.log").open("w")
    # A session of its own, so the whole process group can be stopped.
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "dagster.log").read_text()[-3000:]
            try:
                if get(f"http://127.0.0.1:{port}/server_info") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dg dev did not answer within 180 s"
            time.sleep(2)
        assert get(f"http://127.0.0.1:{port}/") == 200
        while True:
            entries = graphql(port, LOCATION_QUERY)["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                break
            assert time.monotonic() < deadline, "the code location did not load within 180 s"
            time.sleep(2)
        loaded = [entry["locationOrLoadError"] for entry in entries]
        assert all(location["__typename"] == "RepositoryLocation" for location in loaded), loaded
        nodes = graphql(port, ASSET_QUERY)["data"]["assetNodes"]
        names = {node["assetKey"]["path"][-1] for node in nodes}
        assert {
            "fct_stage_conversion",
            "fct_stage_conversion_daily",
            "raw_lead_transitions",
        } <= names
        checks = {
            check["name"]
            for node in nodes
            for check in node["assetChecksOrError"].get("checks", [])
        }
        expected = (
            "unique_combination_of_columns_fct_stage_conversion_as_of_date__pipeline_id__stage_key"
        )
        assert expected in checks
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    assert server.returncode is not None
    output = (tmp_path / "dagster.log").read_text()
    assert "Serving dagster-webserver" in output
    notices = [line for line in output.splitlines() if DEPRECATION_NOTICE.search(line)]
    assert not notices, "\n".join(notices)
