"""Where the dbt project is, and the settings a deployment gives through env vars."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parent.parent
# The dbt of this interpreter's environment, whatever PATH says.
DBT_EXECUTABLE = (
    str(Path(sys.executable).with_name("dbt"))
    if Path(sys.executable).with_name("dbt").exists()
    else (shutil.which("dbt") or "dbt")
)

pipeline_project = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT)
# Under `dagster dev` this runs `dbt parse` so the manifest follows the code;
# in production the manifest is made by `make manifest` at deploy time.
pipeline_project.prepare_if_dev()


def raw_path() -> str | None:
    """The team's own export folder (the dbt var raw_path), or None for the demo seeds."""
    return os.environ.get("PIPELINE_RAW_PATH") or None


def raw_format() -> str:
    return os.environ.get("PIPELINE_RAW_FORMAT", "csv")


def watched_raw_folder() -> Path:
    """The folder whose exports the sensor watches: raw_path, else the demo seeds."""
    return Path(raw_path() or REPO_ROOT / "seeds" / "raw")


def history_start_date() -> str:
    """First day of the daily history partitions."""
    return os.environ.get("PIPELINE_HISTORY_START", "2025-01-01")


def refresh_cron() -> str:
    """When the daily refresh runs (UTC)."""
    return os.environ.get("PIPELINE_REFRESH_CRON", "0 5 * * *")
