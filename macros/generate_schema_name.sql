{#
    Layers land in schemas of their own names (raw, config, staging,
    intermediate, marts) instead of dbt's default "<target>_<custom>", so a
    BI tool always reads marts.<mart> whatever the target schema is.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ target.schema if custom_schema_name is none else custom_schema_name | trim }}
{%- endmacro %}
