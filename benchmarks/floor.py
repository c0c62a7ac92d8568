"""The floor: fct_stage_conversion from the raw Parquet files in the
fastest single DuckDB statement we could write, with none of the
warehouse's layers, checks or quarantine. It assumes clean exports (UTC
ISO-8601 timestamps, known stages and leads), which the scale generator
writes. How close the dbt build comes to this is what the benchmark
measures, so the floor must be fast, not convenient:

- integer stage ids in tie-break order, packed with the instant into one
  bigint sort key (microseconds x 256 + stage id);
- no distinct over the input: exact duplicates and re-saves repeat the
  lead's previous stage, so the first window drops them with the rest;
- two window passes, each one sort on (lead, key) shared by its functions;
  the cohorts (lead x stage) come from aggregates (arg_min), not a third
  sort; the timestamp text is cast, not converted through time zones.

FIRST_FLOOR_SQL is the statement it replaces (a distinct, four sorts, a
time-zone conversion), kept so that the benchmark shows what the rewrite
bought; both give the warehouse's numbers.

    python benchmarks/floor.py <exports folder> <pipeline_stages.csv> [factor] [--first]

prints one JSON line per open stage (--first: with the first floor).
"""

from __future__ import annotations

import json
import sys

import duckdb

FLOOR_SQL = """
with
stages as (
    -- Integer ids in tie-break order: events at one instant sort by
    -- stage_order, lost stages last, then key (the warehouse's rule).
    select
        stage_key,
        cast(row_number() over (
            order by stage_type = 'lost', try_cast(stage_order as integer), stage_key
        ) as utinyint) as stage_id,
        try_cast(stage_order as integer) as stage_order,
        stage_type = 'open' as is_open,
        stage_type = 'lost' as is_lost,
        try_cast(default_expected_days as double) as default_expected_days
    from read_csv($stages, all_varchar = true)
),
events as (
    -- One packed sort key per event: the instant in microseconds, then the
    -- stage's tie-break id in the low byte. Exact duplicates and re-saves
    -- need no distinct: the first window drops every event whose stage
    -- repeats the lead's previous one.
    select
        trim(raw.lead_id) as lead_id,
        stages.stage_id,
        stages.stage_order,
        epoch_us(cast(raw.entered_at as timestamp)) * 256 + stages.stage_id as sort_key
    from read_parquet($transitions) as raw
    inner join stages on stages.stage_key = lower(trim(raw.stage_key))
),
visit_starts as (
    select lead_id, stage_id, stage_order, sort_key
    from (
        select
            *,
            lag(stage_id) over (partition by lead_id order by sort_key) as previous_stage_id
        from events
    )
    where previous_stage_id is distinct from stage_id
),
visits as (
    select
        visit_starts.lead_id,
        visit_starts.stage_id,
        visit_starts.sort_key >> 8 as entered_us,
        lead(visit_starts.sort_key >> 8) over lead_order as exited_us,
        lead(visit_starts.stage_id) over lead_order as next_stage_id,
        max(visit_starts.stage_order) over (
            partition by visit_starts.lead_id order by visit_starts.sort_key
            rows between 1 following and unbounded following
        ) as max_later_order
    from visit_starts
    window lead_order as (partition by visit_starts.lead_id order by visit_starts.sort_key)
),
open_visits as (
    select
        visits.*,
        this.stage_order,
        visits.next_stage_id is null as is_current,
        not next.is_lost and next.stage_order > this.stage_order as is_advanced
    from visits
    inner join stages as this on visits.stage_id = this.stage_id
    left join stages as next on visits.next_stage_id = next.stage_id
    where this.is_open
),
thresholds as (
    select
        stages.stage_id,
        stages.stage_key,
        coalesce(
            $factor * avg(open_visits.exited_us - open_visits.entered_us) / 86400e6,
            any_value(stages.default_expected_days)
        ) as expected_days
    from stages
    left join open_visits
        on stages.stage_id = open_visits.stage_id and open_visits.is_advanced
    where stages.is_open
    group by stages.stage_id, stages.stage_key
),
cohorts as (
    -- Lead x open stage: advanced at its first visit, and its current visit
    -- when that is of the stage (aggregates, not another sort).
    select
        stage_id,
        arg_min(max_later_order, entered_us) > any_value(stage_order) as advanced,
        max(case when is_current then entered_us end) as current_entered_us
    from open_visits
    group by lead_id, stage_id
),
outcomes as (
    select
        thresholds.stage_key,
        coalesce(cohorts.advanced, false) as advanced,
        coalesce(cohorts.advanced, false) or cohorts.current_entered_us is null as completed,
        coalesce(
            (as_of.as_of_us - cohorts.current_entered_us) / 86400e6 > thresholds.expected_days,
            false
        ) as over_threshold
    from cohorts
    cross join (
        select epoch_us(cast(make_timestamp(max(sort_key >> 8)) as date) + interval 1 day)
            as as_of_us
        from events
    ) as as_of
    inner join thresholds on cohorts.stage_id = thresholds.stage_id
)
select
    stage_key,
    count(*) as leads_entered,
    count(*) filter (where advanced) as leads_advanced,
    count(*) filter (where completed) as leads_completed,
    count(*) filter (where not completed and over_threshold) as leads_old,
    count(*) filter (where not completed and not over_threshold) as leads_in_window,
    count(*) filter (where advanced) / nullif(
        count(*) filter (where completed)
            + count(*) filter (where not completed and over_threshold),
        0
    ) as conversion_rate
from outcomes
group by stage_key
order by stage_key
"""

FIRST_FLOOR_SQL = """
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


def floor_conversion(
    exports: str, stages_csv: str, factor: float = 2.0, sql: str = FLOOR_SQL
) -> list[dict[str, object]]:
    with duckdb.connect() as connection:
        cursor = connection.execute(
            sql,
            {
                "stages": stages_csv,
                "transitions": f"{exports}/raw_lead_transitions*.parquet",
                "factor": factor,
            },
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


if __name__ == "__main__":
    first = "--first" in sys.argv
    args = [arg for arg in sys.argv[1:] if arg != "--first"]
    for row in floor_conversion(
        args[0],
        args[1],
        float(args[2]) if len(args) > 2 else 2.0,
        FIRST_FLOOR_SQL if first else FLOOR_SQL,
    ):
        print(json.dumps(row))
