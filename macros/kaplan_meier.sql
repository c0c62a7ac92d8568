{#
    kaplan_meier_survival_ctes(observed, keys, event_column): the CTEs of a
    Kaplan-Meier curve, one per value of the key columns, ending in
    `survival`: keys, observed_microseconds (each event time) and
    share_remaining (the share without the event just after that time).
    `observed` is a CTE of one row per visit: the keys,
    observed_microseconds (whole microseconds, so equal times fall together
    exactly) and the event column (1: an event at that time; 0: censored
    there). The days to advance (docs/metrics.md section 12) and the days
    to be won (section 17) are such curves.

    kaplan_meier_quantile_ctes(observed, keys): that curve of the days a
    visit takes to advance (event column is_advanced), ending in
    `quantiles`: keys, median_microseconds, p75_microseconds.
    int_stage_time_to_advance_km computes one curve per stage,
    int_stage_thresholds_daily one per stage and day.
#}
{% macro kaplan_meier_survival_ctes(observed, keys, event_column) -%}
{%- set key_list = keys | join(', ') -%}
observed_times as (

    select
        {{ key_list }},
        observed_microseconds,
        sum({{ event_column }}) as event_visits,
        count(*) as observed_visits
    from {{ observed }}
    group by
        {{ key_list }},
        observed_microseconds

),

at_risk as (

    -- Visits observed at or after the time: a visit censored at an event's
    -- time was still at risk then.
    select
        {{ key_list }},
        observed_microseconds,
        event_visits,
        sum(observed_visits) over (
            partition by {{ key_list }}
            order by observed_microseconds desc
            rows between unbounded preceding and current row
        ) as visits_at_risk
    from observed_times

),

survival as (

    -- The share of visits without the event just after each event time.
    select
        {{ key_list }},
        observed_microseconds,
        {{ cumulative_product(
            '1 - cast(event_visits as ' ~ type_double() ~ ') / visits_at_risk',
            'observed_microseconds',
            partition_by=key_list
        ) }} as share_remaining
    from at_risk
    where event_visits > 0

)
{%- endmacro %}

{% macro kaplan_meier_quantile_ctes(observed, keys) -%}
{%- set key_list = keys | join(', ') -%}
{{ kaplan_meier_survival_ctes(observed, keys, 'is_advanced') }},

quantiles as (

    -- The first event time the curve reaches a half (a quarter); the
    -- tolerance keeps an exact half from missing by a rounding error.
    select
        {{ key_list }},
        min(case when share_remaining <= 0.5 + 1e-9 then observed_microseconds end) as median_microseconds,
        min(case when share_remaining <= 0.25 + 1e-9 then observed_microseconds end) as p75_microseconds
    from survival
    group by {{ key_list }}

)
{%- endmacro %}
