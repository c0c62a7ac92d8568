{#
    raw_input(name, columns): the rows of a raw export, every column as
    text (typing happens in staging whatever the source), plus source_file,
    the name of the file each row came from.

    Without the raw_path var the export is the demo seed ref(name). With it,
    every file <raw_path>/<name>*.<raw_format> (csv or parquet).

    raw_export_files(name): the same files, one row each (raw_table,
    file_name), for stg_crm__export_files.
#}
{% macro raw_input(name, columns) -%}
    {%- set pattern = raw_file_pattern(name) -%}
    {%- if pattern is none -%}
        (
            select
                {%- for column in columns %}
                {{ column }},
                {%- endfor %}
                '{{ name }}' as source_file
            from {{ ref(name) }}
        )
    {%- else -%}
        {{ adapter.dispatch('read_raw_files', 'sales_pipeline')(pattern, columns) }}
    {%- endif -%}
{%- endmacro %}

{% macro raw_export_files(name) -%}
    {%- set pattern = raw_file_pattern(name) -%}
    {%- if pattern is none -%}
        select '{{ name }}' as raw_table, '{{ name }}' as file_name
    {%- else -%}
        {{ adapter.dispatch('list_raw_files', 'sales_pipeline')(name, pattern) }}
    {%- endif -%}
{%- endmacro %}

{#- <raw_path>/<name>*.<raw_format>, or none without the raw_path var. -#}
{% macro raw_file_pattern(name) -%}
    {%- set raw_path = var('raw_path', none) -%}
    {%- if raw_path is none or raw_path | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw_format = var('raw_format', 'csv') | string | lower -%}
    {%- if raw_format not in ('csv', 'parquet') -%}
        {{ exceptions.raise_compiler_error(
            "var raw_format must be 'csv' or 'parquet', got '" ~ raw_format ~ "'"
        ) }}
    {%- endif -%}
    {{ return((raw_path | string).rstrip('/') ~ '/' ~ name ~ '*.' ~ raw_format) }}
{%- endmacro %}

{% macro default__read_raw_files(pattern, columns) -%}
    {{ exceptions.raise_compiler_error(
        "raw_path is supported on DuckDB only; on " ~ target.type
        ~ " load the exports into tables and point the raw seeds' refs at them"
    ) }}
{%- endmacro %}

{% macro duckdb__read_raw_files(pattern, columns) -%}
    {%- if pattern.endswith('.csv') -%}
        {%- set reader = "read_csv('" ~ pattern ~ "', header = true, all_varchar = true, union_by_name = true, filename = true)" -%}
    {%- else -%}
        {%- set reader = "read_parquet('" ~ pattern ~ "', union_by_name = true, filename = true)" -%}
    {%- endif -%}
    (
        select
            {%- for column in columns %}
            cast({{ column }} as {{ dbt.type_string() }}) as {{ column }},
            {%- endfor %}
            -- A filter on it skips the other files unread.
            parse_filename(filename) as source_file
        from {{ reader }}
    )
{%- endmacro %}

{% macro default__list_raw_files(name, pattern) -%}
    {{ default__read_raw_files(pattern, []) }}
{%- endmacro %}

{% macro duckdb__list_raw_files(name, pattern) -%}
    select
        '{{ name }}' as raw_table,
        parse_filename(file) as file_name
    from glob('{{ pattern }}')
{%- endmacro %}
