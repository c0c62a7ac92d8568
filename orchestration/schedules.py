"""The daily refresh."""

from dagster import (
    AssetSelection,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from orchestration.assets import RefreshConfig, pipeline_dashboard, pipeline_warehouse
from orchestration.project import business_time_zone, refresh_cron

refresh_job = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.assets(pipeline_warehouse, pipeline_dashboard),
    description=(
        "dbt build of every seed and model as of one date (the history of the "
        "days up to it included), then the dashboard from the published marts."
    ),
)


def refresh_run_config(as_of_date: str | None) -> RunConfig:
    return RunConfig(ops={pipeline_warehouse.op.name: RefreshConfig(as_of_date=as_of_date)})


@schedule(job=refresh_job, cron_schedule=refresh_cron(), execution_timezone=business_time_zone())
def daily_refresh(context: ScheduleEvaluationContext) -> RunRequest:
    """Refreshes the marts as of the tick's own date, fixed in the run's config
    (never "today" read at run time), so re-running an old tick reproduces it."""
    as_of_date = context.scheduled_execution_time.date().isoformat()
    return RunRequest(run_key=as_of_date, run_config=refresh_run_config(as_of_date))
