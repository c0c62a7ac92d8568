"""Where the dbt project is, and the settings a deployment gives through env vars
(what the warehouse reads: sales_pipeline.build_inputs.BuildInputs.from_env)."""

from __future__ import annotations

import json
import os
import subprocess

from dagster_dbt import DbtProject

from sales_pipeline.build_inputs import REPO_ROOT, BuildInputs
from sales_pipeline.publish import DBT_EXECUTABLE

__all__ = ["DBT_EXECUTABLE", "REPO_ROOT", "pipeline_project"]

# The manifest is parsed with the deployment's inputs (the PIPELINE_* env
# vars): with raw_path the staging models read the loader's tables (dbt
# sources), without it the demo seeds, and the asset graph shows which.
PARSE_ARGS = ["parse", "--quiet"]
if BuildInputs.from_env().dbt_vars():
    PARSE_ARGS += ["--vars", json.dumps(BuildInputs.from_env().dbt_vars())]

pipeline_project = DbtProject(
    project_dir=REPO_ROOT, profiles_dir=REPO_ROOT, prepare_project_cli_args=PARSE_ARGS
)
# Under `dg dev` (and every dg command) this runs `dbt parse` so the manifest follows the code;
# in production the manifest is made by `make manifest` at deploy time.
pipeline_project.prepare_if_dev()


def history_start() -> str | None:
    """The first day of the history a refresh computes (the dbt var
    history_start), from PIPELINE_HISTORY_START; empty: a year before the
    as-of date."""
    return os.environ.get("PIPELINE_HISTORY_START") or None


def business_time_zone() -> str:
    """The time zone whose days the schedules count,
    the dbt var business_time_zone the refreshes are given (PipelineInputs)."""
    return BuildInputs.from_env().business_time_zone or "UTC"


def refresh_cron() -> str:
    """When the daily refresh runs (in the business time zone)."""
    return os.environ.get("PIPELINE_REFRESH_CRON", "0 5 * * *")


if __name__ == "__main__":
    # make manifest: the manifest Dagster loads, for this deployment's inputs.
    raise SystemExit(subprocess.call([DBT_EXECUTABLE, *PARSE_ARGS], cwd=REPO_ROOT))
