{#
    days_between(start_at, end_at): fractional days from start_at to end_at,
    i.e. seconds / 86,400 (spec section 2), keeping sub-second precision.
#}
{% macro days_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('days_between', 'sales_pipeline')(start_at, end_at)) }}
{%- endmacro %}

{#- PostgreSQL flavour. -#}
{% macro default__days_between(start_at, end_at) -%}
    (extract(epoch from ({{ end_at }} - {{ start_at }})) / 86400.0)
{%- endmacro %}

{% macro duckdb__days_between(start_at, end_at) -%}
    ((epoch({{ end_at }}) - epoch({{ start_at }})) / 86400.0)
{%- endmacro %}

{% macro spark__days_between(start_at, end_at) -%}
    ((cast({{ end_at }} as double) - cast({{ start_at }} as double)) / 86400.0)
{%- endmacro %}
