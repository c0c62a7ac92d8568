"""Where the dbt project is, and the settings a deployment gives through env vars
(what the warehouse reads: sales_pipeline.build_inputs.BuildInputs.from_env)."""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from sales_pipeline.build_inputs import REPO_ROOT, BuildInputs
from sales_pipeline.publish import DBT_EXECUTABLE

__all__ = ["DBT_EXECUTABLE", "REPO_ROOT", "pipeline_project"]

pipeline_project = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT)
# Under `dagster dev` this runs `dbt parse` so the manifest follows the code;
# in production the manifest is made by `make manifest` at deploy time.
pipeline_project.prepare_if_dev()


def history_start_date() -> str:
    """First day of the daily history partitions."""
    return os.environ.get("PIPELINE_HISTORY_START", "2025-01-01")


def business_time_zone() -> str:
    """The time zone whose days the schedules and history partitions count,
    the dbt var business_time_zone the refreshes are given (PipelineInputs)."""
    return BuildInputs.from_env().business_time_zone or "UTC"


def refresh_cron() -> str:
    """When the daily refresh runs (in the business time zone)."""
    return os.environ.get("PIPELINE_REFRESH_CRON", "0 5 * * *")
