{#
    try_cast(expression, type): the value as type, or null when it cannot be
    converted. dbt.safe_cast is a plain cast on DuckDB, which fails the
    whole query on one bad value.
#}
{% macro try_cast(expression, type) -%}
    {{ return(adapter.dispatch('try_cast', 'sales_pipeline')(expression, type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, type) -%}
    {{ dbt.safe_cast(expression, type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}
