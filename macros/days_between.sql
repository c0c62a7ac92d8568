{#
    microseconds_between(start_at, end_at): whole microseconds from start_at
    to end_at, as a bigint. Durations are summed as integers so that an
    average comes out the same to the last bit whatever order the engine
    adds them in (a rebuild gives identical marts).

    microseconds_to_days(microseconds): fractional days, seconds / 86,400
    (docs/metrics.md section 2).

    days_in_stage(entered_at, as_of_at): the fractional days a current
    visit has lasted by the as-of instant.
#}
{% macro microseconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('microseconds_between', 'sales_pipeline')(start_at, end_at)) }}
{%- endmacro %}

{#- PostgreSQL flavour. -#}
{% macro default__microseconds_between(start_at, end_at) -%}
    cast(round(extract(epoch from ({{ end_at }} - {{ start_at }})) * 1000000) as bigint)
{%- endmacro %}

{% macro duckdb__microseconds_between(start_at, end_at) -%}
    (epoch_us({{ end_at }}) - epoch_us({{ start_at }}))
{%- endmacro %}

{% macro spark__microseconds_between(start_at, end_at) -%}
    (unix_micros({{ end_at }}) - unix_micros({{ start_at }}))
{%- endmacro %}

{% macro microseconds_to_days(microseconds) -%}
    (cast({{ microseconds }} as {{ type_double() }}) / 86400000000.0)
{%- endmacro %}

{% macro days_in_stage(entered_at, as_of_at) -%}
    {{ microseconds_to_days(microseconds_between(entered_at, as_of_at)) }}
{%- endmacro %}
