{#
    Functions an engine lacks, created at the start of every dbt
    invocation (on-run-start) in the target's schema. PostgreSQL has no
    product aggregate: pipeline_product multiplies doubles in row order,
    as DuckDB's and Spark's product do.
#}
{% macro engine_functions() -%}
    {{ return(adapter.dispatch('engine_functions', 'sales_pipeline')()) }}
{%- endmacro %}

{% macro default__engine_functions() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__engine_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace aggregate {{ target.schema }}.pipeline_product(double precision) (
        sfunc = float8mul,
        stype = double precision
    )
{%- endmacro %}
