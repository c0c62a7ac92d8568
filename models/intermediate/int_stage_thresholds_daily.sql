-- Per day of the history (int_history_days) x open stage: the thresholds
-- of int_stage_thresholds_derived as a build dated that day computes them
-- (docs/metrics.md section 3). The average days to advance sums the
-- visits advanced by each day, summed per day first, so it changes only on
-- a day a visit advances. With expected_days_basis km_median, the
-- Kaplan-Meier median is estimated day by day: every visit entered by the
-- day's end is observed as it stood then (one that left later was still
-- open), so that basis reads each visit once per day it existed.
{%- set basis = expected_days_basis() %}

with

days as (

    select * from {{ ref('int_history_days') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

advanced_visits as (

    select
        stage_key,
        dwell_microseconds,
        cast({{ utc_to_business_time('exited_at') }} as date) as advanced_on
    from {{ ref('int_lead_stage_visits_collapsed') }}
    where exit_type = 'advanced'

),

advances_by_day as (

    select
        stage_key,
        advanced_on,
        sum(dwell_microseconds) as advanced_microseconds,
        count(*) as advanced_visit_count
    from advanced_visits
    group by
        stage_key,
        advanced_on

),

summed as (

    -- Every advance by the day's end, in whole microseconds summed exactly
    -- (as int_stage_thresholds_derived does).
    select
        days.as_of_date,
        stages.stage_key,
        stages.default_expected_days,
        sum(advances_by_day.advanced_microseconds) as advanced_microseconds,
        coalesce(sum(advances_by_day.advanced_visit_count), 0) as advanced_visit_count
    from days
    cross join stages
    left join advances_by_day
        on
            stages.stage_key = advances_by_day.stage_key
            and days.as_of_date >= advances_by_day.advanced_on
    group by
        days.as_of_date,
        stages.stage_key,
        stages.default_expected_days

),

{% if basis == 'km_median' -%}
observed as (

    -- Each visit of an open stage on each day it existed, as it stood at
    -- that day's end: an event at its dwell if it had advanced, censored
    -- at its dwell if it had left another way, at its days in stage then
    -- if it had not left.
    select
        days.as_of_date,
        visits.stage_key,
        case
            when visits.exited_at < days.as_of_at then visits.dwell_microseconds
            else {{ microseconds_between('visits.entered_at', 'days.as_of_at') }}
        end as observed_microseconds,
        case when visits.exited_at < days.as_of_at and visits.exit_type = 'advanced' then 1 else 0 end
            as is_advanced
    from {{ ref('int_lead_stage_visits_collapsed') }} as visits
    inner join stages
        on visits.stage_key = stages.stage_key
    inner join days
        on visits.entered_at < days.as_of_at

),

{{ kaplan_meier_quantile_ctes('observed', ['as_of_date', 'stage_key']) }},

{% endif -%}
averaged_days as (

    select
        summed.as_of_date,
        summed.stage_key,
        summed.default_expected_days,
        {{ microseconds_to_days(ratio('summed.advanced_microseconds', 'summed.advanced_visit_count')) }}
            as avg_days_to_advance,
        {% if basis == 'km_median' -%}
            {{ microseconds_to_days('quantiles.median_microseconds') }}
        {%- else -%}
            cast(null as {{ type_double() }})
        {%- endif %} as km_median_days_to_advance
    from summed
    {%- if basis == 'km_median' %}
        left join quantiles
            on
                summed.as_of_date = quantiles.as_of_date
                and summed.stage_key = quantiles.stage_key
    {%- endif %}

),

final as (

    select
        as_of_date,
        stage_key,
        avg_days_to_advance,
        km_median_days_to_advance,
        {{ expected_days_to_convert(
            'avg_days_to_advance' if basis == 'average' else 'km_median_days_to_advance',
            'default_expected_days'
        ) }} as expected_days_to_convert
    from averaged_days

)

select * from final
