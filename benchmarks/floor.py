"""The floor: fct_stage_conversion from the raw Parquet files in one
hand-written DuckDB statement, with none of the warehouse's layers, checks
or quarantine. It assumes clean exports (ISO-8601 timestamps, known stages
and leads), which the scale generator writes. How close the dbt build
comes to this is what the benchmark measures.

    python benchmarks/floor.py <exports folder> <pipeline_stages.csv> [factor]

prints one JSON line per open stage.
"""

from __future__ import annotations

import json
import sys

import duckdb

FLOOR_SQL = """
with
stages as (
    select
        stage_key,
        try_cast(stage_order as integer) as stage_order,
        stage_type,
        try_cast(default_expected_days as double) as default_expected_days,
        -- Events at one instant: by stage_order, lost stages last, then key.
        row_number() over (
            order by stage_type = 'lost', try_cast(stage_order as integer), stage_key
        ) as tie_rank
    from read_csv($stages, all_varchar = true)
),
events as (
    select distinct
        trim(lead_id) as lead_id,
        lower(trim(stage_key)) as stage_key,
        cast(cast(entered_at as timestamptz) at time zone 'UTC' as timestamp) as entered_at
    from read_parquet($transitions)
),
as_of as (
    select cast(max(entered_at) as date) + interval 1 day as as_of_at from events
),
ordered as (
    select
        events.*,
        stages.tie_rank,
        lag(events.stage_key) over lead_order as previous_stage
    from events
    inner join stages using (stage_key)
    window lead_order as (partition by events.lead_id order by events.entered_at, stages.tie_rank)
),
visits as (
    select
        lead_id,
        stage_key,
        entered_at,
        tie_rank,
        lead(stage_key) over lead_order as next_stage,
        lead(entered_at) over lead_order as exited_at,
        row_number() over lead_order as visit_number
    from ordered
    where previous_stage is distinct from stage_key
    window lead_order as (partition by lead_id order by entered_at, tie_rank)
),
classified as (
    select
        visits.*,
        this.stage_order,
        this.stage_type,
        case
            when this.stage_type = 'lost' and next.stage_type != 'lost' then 'reopened'
            when next.stage_type = 'lost' then 'lost'
            when next.stage_order > this.stage_order then 'advanced'
            when next.stage_order < this.stage_order then 'regressed'
            when visits.next_stage is null then 'open'
        end as exit_type,
        max(this.stage_order) over later as max_later_order,
        last_value(visits.stage_key) over whole as current_stage,
        max(visits.visit_number) over whole as last_visit
    from visits
    inner join stages as this on visits.stage_key = this.stage_key
    left join stages as next on visits.next_stage = next.stage_key
    window
        later as (partition by visits.lead_id order by visits.visit_number
                  rows between 1 following and unbounded following),
        whole as (partition by visits.lead_id order by visits.visit_number
                  rows between unbounded preceding and unbounded following)
),
thresholds as (
    select
        stages.stage_key,
        coalesce(
            $factor
                * avg(epoch_us(classified.exited_at) - epoch_us(classified.entered_at)) / 86400e6,
            any_value(stages.default_expected_days)
        ) as expected_days
    from stages
    left join classified
        on stages.stage_key = classified.stage_key and classified.exit_type = 'advanced'
    where stages.stage_type = 'open'
    group by stages.stage_key
),
cohorts as (
    -- One row per lead x open stage it visited: its first visit of the
    -- stage, and its current visit when that is of the stage.
    select
        lead_id,
        stage_key,
        coalesce(
            bool_or(max_later_order > stage_order and visit_number = first_visit), false
        ) as advanced,
        bool_or(current_stage = stage_key) as is_current,
        max(case when visit_number = last_visit then entered_at end) as current_entered_at
    from (
        select *, min(visit_number) over (partition by lead_id, stage_key) as first_visit
        from classified
        where stage_type = 'open'
    )
    group by lead_id, stage_key
),
outcomes as (
    select
        cohorts.stage_key,
        cohorts.advanced,
        cohorts.advanced or not cohorts.is_current as completed,
        not (cohorts.advanced or not cohorts.is_current)
            and (epoch_us(as_of.as_of_at) - epoch_us(cohorts.current_entered_at)) / 86400e6
                > thresholds.expected_days as old
    from cohorts
    cross join as_of
    inner join thresholds on cohorts.stage_key = thresholds.stage_key
)
select
    stage_key,
    count(*) as leads_entered,
    count(*) filter (where advanced) as leads_advanced,
    count(*) filter (where completed) as leads_completed,
    count(*) filter (where old) as leads_old,
    count(*) filter (where not completed and not coalesce(old, false)) as leads_in_window,
    count(*) filter (where advanced) / nullif(
        count(*) filter (where completed) + count(*) filter (where old), 0
    ) as conversion_rate
from outcomes
group by stage_key
order by stage_key
"""


def floor_conversion(exports: str, stages_csv: str, factor: float = 2.0) -> list[dict[str, object]]:
    with duckdb.connect() as connection:
        cursor = connection.execute(
            FLOOR_SQL,
            {
                "stages": stages_csv,
                "transitions": f"{exports}/raw_lead_transitions*.parquet",
                "factor": factor,
            },
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


if __name__ == "__main__":
    for row in floor_conversion(
        sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    ):
        print(json.dumps(row))
