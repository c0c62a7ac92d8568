{#
    type_double(): the 64-bit floating-point type. dbt.type_float() is a
    32-bit FLOAT on DuckDB, too coarse for rates and amounts.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'sales_pipeline')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
