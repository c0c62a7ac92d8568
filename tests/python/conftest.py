"""Fixtures several test modules share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dbt_project_harness import DbtProject, write_csv
from mart_checks import two_pipeline_config, two_pipeline_history

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

# make test runs the test modules on every core (pytest -n auto --dist
# loadscope --no-loadscope-reorder: the units in collection order). A
# module is one unit of work, run by one worker, so its module fixtures are
# built once (the session fixtures once per worker). The modules that run
# dbt or make in the repository itself are one unit together: they write
# its target/ folder (manifest.json, the partial parse), which two dbt
# processes must not write at once.
MODULES_IN_THE_REPOSITORY = {
    "test_conventions.py",
    "test_dagster_ui.py",
    "test_hostile_input.py",
    "test_orchestration.py",
    "test_own_data.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The repository's unit is the longest (~8 minutes): it goes first, so
    that the other worker takes the rest meanwhile."""
    items.sort(key=lambda item: item.path.name not in MODULES_IN_THE_REPOSITORY)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "repository" if Path(module).name in MODULES_IN_THE_REPOSITORY else module

    return ModuleScheduling(config, log)


# Test files are complete when written: no build waits for them to settle
# (test_hostile_input sets the var where it tests the waiting).
os.environ["PIPELINE_EXPORT_SETTLE_SECONDS"] = "0"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """The committed project built on its demo seeds (dbt build, every data
    test), once per session: the demo tests, the semantic layer's and the
    dashboard's read it and leave it as it was."""
    project = DbtProject.copy_of_repo(tmp_path_factory.mktemp("demo") / "project")
    project.dbt("build")
    return project


@pytest.fixture(scope="session")
def two_pipelines(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """A project of two pipelines, "partner" (other stage keys) and
    "inbound" (the demo's stages), each with its own target, as
    test_marts_match_reference builds them, on fewer leads: a plain dbt run
    (that test runs the data tests), once per session, for the readers of
    the marts (the dashboard, make build's summary)."""
    root = tmp_path_factory.mktemp("two_pipelines")
    project = DbtProject.copy_of_repo(root / "project")
    for name, rows in two_pipeline_config().items():
        write_csv(root / "config" / f"{name}.csv", rows, list(rows[0]))
    leads, transitions = two_pipeline_history(150, 150, edge_case_rate=1.0)
    write_csv(root / "exports/raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(root / "exports/raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)
    project.vars = {"raw_path": str(root / "exports"), "config_path": str(root / "config")}
    project.dbt("run")
    return project
