{#
    raw_input(name): the relation a staging model reads a raw export from.
    Without the raw_path var it is the demo seed ref(name); with it, every
    file <raw_path>/<name>*.<raw_format> (csv or parquet), read with every
    column as text so that typing happens in staging whatever the source.
#}
{% macro raw_input(name, columns) -%}
    {%- set raw_path = var('raw_path', none) -%}
    {%- if raw_path is none or raw_path | string | trim == '' -%}
        {{ return(ref(name)) }}
    {%- endif -%}
    {%- set raw_format = var('raw_format', 'csv') | string | lower -%}
    {%- if raw_format not in ('csv', 'parquet') -%}
        {{ exceptions.raise_compiler_error(
            "var raw_format must be 'csv' or 'parquet', got '" ~ raw_format ~ "'"
        ) }}
    {%- endif -%}
    {%- set pattern = (raw_path | string).rstrip('/') ~ '/' ~ name ~ '*.' ~ raw_format -%}
    {{ return(adapter.dispatch('read_raw_files', 'sales_pipeline')(pattern, raw_format, columns)) }}
{%- endmacro %}

{% macro default__read_raw_files(pattern, raw_format, columns) -%}
    {{ exceptions.raise_compiler_error(
        "raw_path is supported on DuckDB only; on " ~ target.type
        ~ " load the exports into tables and point the raw seeds' refs at them"
    ) }}
{%- endmacro %}

{% macro duckdb__read_raw_files(pattern, raw_format, columns) -%}
    {%- if raw_format == 'csv' -%}
        {%- set reader = "read_csv('" ~ pattern ~ "', header = true, all_varchar = true, union_by_name = true)" -%}
    {%- else -%}
        {%- set reader = "read_parquet('" ~ pattern ~ "', union_by_name = true)" -%}
    {%- endif -%}
    (
        select
            {%- for column in columns %}
            cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ reader }}
    )
{%- endmacro %}
