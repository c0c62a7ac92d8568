"""The Dagster code location (`dg dev`: pyproject.toml's [tool.dg] points here)."""

from __future__ import annotations

from dagster import Definitions
from dagster_dbt import DbtCliResource

from orchestration.assets import (
    PipelineInputs,
    loaded_tables,
    pipeline_dashboard,
    pipeline_warehouse,
)
from orchestration.project import DBT_EXECUTABLE, pipeline_project
from orchestration.schedules import daily_refresh, refresh_job
from orchestration.sensors import raw_exports_sensor

defs = Definitions(
    assets=[*loaded_tables, pipeline_warehouse, pipeline_dashboard],
    jobs=[refresh_job],
    schedules=[daily_refresh],
    sensors=[raw_exports_sensor],
    resources={
        "dbt": DbtCliResource(project_dir=pipeline_project, dbt_executable=DBT_EXECUTABLE),
        "pipeline_inputs": PipelineInputs.from_env(),
    },
)
