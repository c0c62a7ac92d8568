{#
    materialized_cte(): `materialized` after a CTE's `as`, where the engine
    takes the hint. DuckDB rewrites a window over a CTE into a join with
    its own aggregate and then evaluates the CTE twice; for a CTE that reads
    and parses the exports that doubles the work.
#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'sales_pipeline')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro postgres__materialized_cte() -%}
    materialized
{%- endmacro %}
