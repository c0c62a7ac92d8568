{#
    Where the raw exports and the configuration come from, and how each
    file is read.

    The models read the raw tables through the source crm
    (models/staging/crm/_crm__sources.yml): the demo seeds, a loader's tables
    (crm_schema), or with the raw_path var (DuckDB) the export files: the
    files directly under raw_path whose names start with raw_leads or
    raw_lead_transitions and end with .csv or .csv.gz (raw_format csv, the
    default) or .parquet (raw_format parquet), in any case.
    stg_crm__export_folder lists the folder, stg_crm__export_files inspects
    each new file once (the sales_pipeline_files plugin,
    plugins/sales_pipeline_files.py) and records how to read it, and its
    post-hook makes the source views that read every file with exactly
    those options. A file that cannot be read stops the build there
    (macros/export_file_checks.sql).

    Without the config_path var the configuration is the seeds in
    seeds/config; with it, the files pipeline_stages.csv,
    stage_benchmarks.csv and revenue_targets.csv in that folder.
#}

{#- The columns each raw export must have (any order; others are ignored). -#}
{% macro raw_columns(name) -%}
    {{ return({
        'raw_leads': ['lead_id', 'created_at', 'lead_source', 'segment', 'owner_id', 'deal_amount_usd'],
        'raw_lead_transitions': ['lead_id', 'stage_key', 'entered_at'],
    }[name]) }}
{%- endmacro %}

{#- The columns each configuration file must have. -#}
{% macro config_columns(name) -%}
    {{ return({
        'pipeline_stages': ['stage_key', 'stage_name', 'stage_order', 'stage_type', 'default_expected_days'],
        'stage_benchmarks': ['stage_key', 'benchmark_conversion_rate', 'benchmark_source'],
        'revenue_targets': ['target_month', 'revenue_target_usd', 'avg_deal_size_usd'],
    }[name]) }}
{%- endmacro %}

{#- The raw_path var without a trailing slash, or none: the demo seeds. -#}
{% macro raw_path_setting() -%}
    {{ return(folder_var('raw_path')) }}
{%- endmacro %}

{#- The config_path var, or none: the configuration seeds. -#}
{% macro config_path_setting() -%}
    {{ return(folder_var('config_path')) }}
{%- endmacro %}

{% macro folder_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {#- Any other character is data: paths reach SQL only through sql_text. -#}
    {%- if modules.re.search('[\x00-\x1f]', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a folder path on one line, got " ~ text | tojson) }}
    {%- endif -%}
    {{ return(text.rstrip('/') if text != '/' else text) }}
{%- endmacro %}

{#- raw_format: csv or parquet. -#}
{% macro raw_format_setting() -%}
    {%- set raw_format = var('raw_format', 'csv') | string | trim | lower -%}
    {%- if raw_format not in ('csv', 'parquet') -%}
        {{ exceptions.raise_compiler_error(
            "var raw_format must be 'csv' or 'parquet', got '" ~ raw_format ~ "'"
        ) }}
    {%- endif -%}
    {{ return(raw_format) }}
{%- endmacro %}

{#-
    export_settle_seconds: an export file modified less than this many
    seconds before the build is left for the next one (an upload or copy
    may still be writing it); env PIPELINE_EXPORT_SETTLE_SECONDS, default 5.
-#}
{% macro export_settle_seconds() -%}
    {%- set text = var('export_settle_seconds', env_var('PIPELINE_EXPORT_SETTLE_SECONDS', '5')) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+(\\.[0-9]*)?$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var export_settle_seconds must be a number of seconds, 0 or more, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text | float) }}
{%- endmacro %}

{#- input_encoding: how CSV files are written (utf-8 by default). -#}
{% macro input_encoding_setting() -%}
    {%- set encoding = var('input_encoding', none) -%}
    {%- set encoding = 'utf-8' if encoding is none or encoding | string | trim == '' else encoding | string | trim | lower -%}
    {%- set aliases = {'utf8': 'utf-8', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1', 'utf16': 'utf-16'} -%}
    {%- set encoding = aliases.get(encoding, encoding) -%}
    {%- if encoding not in ('utf-8', 'latin-1', 'utf-16') -%}
        {{ exceptions.raise_compiler_error(
            "var input_encoding must be utf-8, latin-1 or utf-16, got '" ~ var('input_encoding') ~ "'"
        ) }}
    {%- endif -%}
    {{ return(encoding) }}
{%- endmacro %}

{#- True while dbt runs models (not while it parses, compiles or documents). -#}
{% macro building_models() -%}
    {{ return(execute and flags.WHICH in ['run', 'build']) }}
{%- endmacro %}

{#-
    Where the raw tables come from (see models/staging/crm/_crm__sources.yml):
    'seeds' (the demo seeds, loaded into schema raw), 'tables' (a loader's
    tables: the var crm_schema or env PIPELINE_CRM_SCHEMA names their
    schema) or 'files' (raw_path: export files, DuckDB only).
-#}
{% macro crm_tables_setting() -%}
    {%- do check_crm_identifier_vars() -%}
    {%- if raw_path_setting() is not none -%}
        {{ return('files') }}
    {%- elif (var('crm_schema', env_var('PIPELINE_CRM_SCHEMA', '')) or '') | string | trim != '' -%}
        {{ return('tables') }}
    {%- endif -%}
    {{ return('seeds') }}
{%- endmacro %}

{#-
    The required columns of a raw table as text, for a select from its
    source: a loader may have typed them (timestamps, numbers), and
    staging parses text the same way whatever wrote it.
-#}
{% macro raw_text_columns(name) -%}
    {%- for column in raw_columns(name) %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    crm_batch_column: the column of both raw tables that names the load a
    row came in with (dlt's _dlt_load_id, the _file of a file connector,
    a load date: any column whose value a loader never changes once
    written), or none. With it, each batch is an "export file": counted,
    listed, loaded once, and a refresh reads only the batches it has not
    read before (macros/incremental_refresh.sql).
-#}
{% macro crm_batch_column() -%}
    {%- set value = var('crm_batch_column', none) -%}
    {%- if value is none or value | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column = value | string | trim -%}
    {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', column) -%}
        {{ exceptions.raise_compiler_error("var crm_batch_column must be a column name, got '" ~ column ~ "'") }}
    {%- endif -%}
    {%- if raw_path_setting() is not none -%}
        {{ exceptions.raise_compiler_error(
            "var crm_batch_column is for tables (crm_schema or the seeds); with raw_path each export file is a batch"
        ) }}
    {%- endif -%}
    {{ return(column) }}
{%- endmacro %}

{#-
    The "file" each raw row came from: the export views carry it; in a
    table it is the row's batch (crm_batch_column, '' when empty), or the
    whole table, named as the raw table.
-#}
{% macro raw_source_file(name) -%}
    {%- set batch_column = crm_batch_column() -%}
    {%- if crm_tables_setting() == 'files' -%}
        source_file
    {%- elif batch_column is not none -%}
        coalesce(cast({{ batch_column }} as {{ dbt.type_string() }}), '')
    {%- else -%}
        {{ sql_text(name) }}
    {%- endif -%}
{%- endmacro %}

{#-
    With raw_path, the post-hook of stg_crm__export_files: the sources
    crm.raw_leads and crm.raw_lead_transitions become views over every
    export file it lists, each read with the options its inspection
    recorded, so the models read export files and tables alike through
    source().
-#}
{% macro write_export_views() -%}
    {%- if crm_tables_setting() != 'files' or not building_models() -%}
        {{ return('') }}
    {%- endif -%}
    {%- for name in ['raw_leads', 'raw_lead_transitions'] -%}
        {%- set view = source('crm', name) -%}
        {%- do run_query('create schema if not exists ' ~ view.without_identifier()) -%}
        {%- do run_query(
            'create or replace view ' ~ view ~ ' as select * from '
            ~ adapter.dispatch('read_export_files', 'sales_pipeline')(name, raw_columns(name), this)
        ) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{% macro default__read_export_files(name, columns, files_relation) -%}
    {{ exceptions.raise_compiler_error(
        "raw_path is supported on DuckDB only; on " ~ target.type
        ~ " load the exports into tables and set the var crm_schema to their schema"
    ) }}
{%- endmacro %}

{#-
    One read_csv or read_parquet per set of files read alike (the same
    format, options and columns: usually one), unioned; a view over it
    reads only the files a filter on source_file names.
-#}
{% macro duckdb__read_export_files(name, columns, files_relation) -%}
    {%- set groups = {} -%}
    {%- if building_models() -%}
        {%- set files = run_query(
            "select file_path, file_format, read_options, column_names from "
            ~ files_relation
            ~ " where raw_table = " ~ sql_text(name) ~ " and row_count > 0 order by file_name"
        ) -%}
        {%- for file in files.rows -%}
            {%- set kind = 'parquet' if file[1] == 'parquet' else 'csv' -%}
            {%- set key = kind ~ '|' ~ file[2] ~ '|' ~ file[3] -%}
            {%- if key not in groups -%}
                {%- do groups.update({key: {'kind': kind, 'options': file[2], 'columns': fromjson(file[3]), 'paths': []}}) -%}
            {%- endif -%}
            {%- do groups[key]['paths'].append(sql_text(file[0])) -%}
        {%- endfor -%}
    {%- endif -%}
    (
        {%- for group in groups.values() %}
        {%- if not loop.first %}
        union all
        {%- endif %}
        select
            {%- for column in columns %}
            {%- if group.kind == 'parquet' %}
            {#- A Parquet file's own column name: anyone's text. #}
            cast({{ sql_identifier(group.columns[loop.index0]) }} as {{ dbt.type_string() }}) as {{ column }},
            {%- else %}
            {{ column }},
            {%- endif %}
            {%- endfor %}
            -- A filter on it skips the other files unread.
            parse_filename(filename) as source_file
        {%- if group.kind == 'parquet' %}
        from read_parquet([{{ group.paths | join(', ') }}], union_by_name = true, filename = true)
        {%- else %}
        from read_csv([{{ group.paths | join(', ') }}], {{ group.options }}, filename = true)
        {%- endif %}
        {%- else %}
        -- No rows in any file yet.
        select
            {%- for column in columns %}
            cast(null as {{ dbt.type_string() }}) as {{ column }},
            {%- endfor %}
            cast(null as {{ dbt.type_string() }}) as source_file
        where 1 = 0
        {%- endfor %}
    )
{%- endmacro %}

{#-
    The entries of the raw_path folder, one row each (see
    stg_crm__export_folder), from the plugin's sales_pipeline_list_folder.
-#}
{% macro export_folder_entries() -%}
    {%- if raw_path_setting() is none -%}
        {%- for name in ['raw_leads', 'raw_lead_transitions'] %}
        {%- if not loop.first %}
    union all
        {%- endif %}
    select
        {{ raw_source_file(name) }} as file_name,
        cast(null as {{ dbt.type_string() }}) as file_path,
        {{ sql_text(name) }} as raw_table,
        {{ sql_text(raw_table_format()) }} as file_format,
        'export' as status,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as file_size_bytes,
        cast(null as {{ dbt.type_timestamp() }}) as file_modified_at,
        count(*) as row_count
    from {{ source('crm', name) }}
        {%- if crm_batch_column() is not none %}
    group by {{ raw_source_file(name) }}
        {%- endif %}
        {%- endfor %}
    {%- else -%}
        {{ return(adapter.dispatch('export_folder_entries', 'sales_pipeline')()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__export_folder_entries() -%}
    {{ default__read_export_files('', [], none) }}
{%- endmacro %}

{#- Files are counted when inspected (stg_crm__export_files), not listed. -#}
{% macro duckdb__export_folder_entries() -%}
    {%- set config_path = config_path_setting() -%}
    select
        *,
        cast(null as {{ dbt.type_bigint() }}) as row_count
    from (
        select unnest(
            sales_pipeline_list_folder(
                {{ sql_text(raw_path_setting()) }},
                {{ sql_text(raw_format_setting()) }},
                {{ sql_text(config_path) }},
                {{ export_settle_seconds() }}
            ),
            recursive := true
        )
    )
{%- endmacro %}

{#-
    config_input(name): the rows of a configuration file, every column as
    text: the seed, or <config_path>/<name>.csv, checked like an export
    file first (a file that cannot be read stops the build with its
    problems, before any configuration check).
-#}
{% macro config_input(name) -%}
    {%- if config_path_setting() is none -%}
        {{ return(ref(name)) }}
    {%- endif -%}
    {{ return(adapter.dispatch('read_config_file', 'sales_pipeline')(name, config_columns(name))) }}
{%- endmacro %}

{% macro default__read_config_file(name, columns) -%}
    {{ exceptions.raise_compiler_error(
        "config_path is supported on DuckDB only; on " ~ target.type ~ " edit the seeds in seeds/config"
    ) }}
{%- endmacro %}

{% macro duckdb__read_config_file(name, columns) -%}
    {%- set path = config_path_setting() ~ '/' ~ name ~ '.csv' -%}
    {%- set plan = {'read_options': none} -%}
    {%- if building_models() -%}
        {%- set plan = inspect_config_file(path, columns) -%}
    {%- endif -%}
    {%- if plan.read_options is none -%}
        (
            select
                {%- for column in columns %}
                cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
                {%- endfor %}
            where 1 = 0
        )
    {%- else -%}
        (select * from read_csv({{ sql_text(path) }}, {{ plan.read_options }}))
    {%- endif -%}
{%- endmacro %}

{#- file_format of a raw table that is not files: seed (the demo) or table. -#}
{% macro raw_table_format() -%}
    {{- 'seed' if crm_tables_setting() == 'seeds' else 'table' -}}
{%- endmacro %}
