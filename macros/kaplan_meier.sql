{#
    kaplan_meier_quantile_ctes(observed, keys): the CTEs of a Kaplan-Meier
    estimate of the days a visit takes to advance (docs/metrics.md section
    12), one curve per value of the key columns, ending in `quantiles`:
    keys, median_microseconds, p75_microseconds. `observed` is a CTE of one
    row per visit: the keys, observed_microseconds (whole microseconds, so
    equal times fall together exactly) and is_advanced (1: an event at that
    time; 0: censored there). int_stage_time_to_advance_km computes one
    curve per stage, fct_stage_conversion_daily one per stage and day.
#}
{% macro kaplan_meier_quantile_ctes(observed, keys) -%}
{%- set key_list = keys | join(', ') -%}
observed_times as (

    select
        {{ key_list }},
        observed_microseconds,
        sum(is_advanced) as advanced_visits,
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
        advanced_visits,
        sum(observed_visits) over (
            partition by {{ key_list }}
            order by observed_microseconds desc
            rows between unbounded preceding and current row
        ) as visits_at_risk
    from observed_times

),

survival as (

    -- The share of visits not yet advanced just after each event time.
    select
        {{ key_list }},
        observed_microseconds,
        {{ cumulative_product(
            '1 - cast(advanced_visits as ' ~ type_double() ~ ') / visits_at_risk',
            'observed_microseconds',
            partition_by=key_list
        ) }} as share_not_advanced
    from at_risk
    where advanced_visits > 0

),

quantiles as (

    -- The first event time the curve reaches a half (a quarter); the
    -- tolerance keeps an exact half from missing by a rounding error.
    select
        {{ key_list }},
        min(case when share_not_advanced <= 0.5 + 1e-9 then observed_microseconds end) as median_microseconds,
        min(case when share_not_advanced <= 0.25 + 1e-9 then observed_microseconds end) as p75_microseconds
    from survival
    group by {{ key_list }}

)
{%- endmacro %}
