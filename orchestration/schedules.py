"""The daily refresh and the daily history partition."""

from dagster import (
    AssetSelection,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    define_asset_job,
    schedule,
)

from orchestration.assets import (
    RefreshConfig,
    pipeline_dashboard,
    pipeline_warehouse,
    stage_conversion_history,
)
from orchestration.project import business_time_zone, refresh_cron

refresh_job = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.assets(pipeline_warehouse, pipeline_dashboard),
    description=(
        "dbt build of every seed and model (not the history) as of one date, "
        "then the dashboard from the published marts."
    ),
)

history_job = define_asset_job(
    "record_stage_conversion_history",
    selection=AssetSelection.assets(stage_conversion_history),
    description="Adds one as-of date to fct_stage_conversion_daily per partition.",
)


def refresh_run_config(as_of_date: str | None) -> RunConfig:
    return RunConfig(ops={pipeline_warehouse.op.name: RefreshConfig(as_of_date=as_of_date)})


@schedule(job=refresh_job, cron_schedule=refresh_cron(), execution_timezone=business_time_zone())
def daily_refresh(context: ScheduleEvaluationContext) -> RunRequest:
    """Refreshes the marts as of the tick's own date, fixed in the run's config
    (never "today" read at run time), so re-running an old tick reproduces it."""
    as_of_date = context.scheduled_execution_time.date().isoformat()
    return RunRequest(run_key=as_of_date, run_config=refresh_run_config(as_of_date))


# Partition D (a whole day of the business time zone) is recorded just after
# it ends, at 00:30 there on D + 1.
daily_history = build_schedule_from_partitioned_job(
    history_job, name="daily_history", hour_of_day=0, minute_of_hour=30
)
