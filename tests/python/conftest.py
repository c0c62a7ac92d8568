"""Fixtures several test modules share."""

from __future__ import annotations

import os

import pytest
from dbt_project_harness import DbtProject

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
