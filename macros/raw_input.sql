{#
    Where the raw exports and the configuration come from.

    The models read the raw tables through the source crm
    (models/staging/crm/_crm__sources.yml): the demo seeds, a loader's
    tables (crm_schema), or with the raw_path var the tables the project's
    loader landed from the team's export files (sales_pipeline.load, which
    make build, the publisher and Dagster run before dbt): schema
    crm_exports, with the load ledger and the folder as the loader saw it.
    dbt reads no file.

    Without the config_path var the configuration is the seeds in
    seeds/config; with it, the loader's copies of the files
    pipeline_stages.csv, stage_benchmarks.csv and revenue_targets.csv of
    that folder (source config_files).
#}

{#- The columns each raw export must have (any order; others are ignored). -#}
{% macro raw_columns(name) -%}
    {#- A CRM adapter's raw_leads also says each amount's currency (macros/currency.sql). -#}
    {%- set deal_currency = ['deal_currency'] if crm_setting() != 'generic' else [] -%}
    {{ return({
        'raw_leads': ['lead_id', 'created_at', 'lead_source', 'segment', 'owner_id', 'deal_amount_usd'] + deal_currency,
        'raw_lead_transitions': ['lead_id', 'stage_key', 'entered_at'],
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

{#-
    Where the raw tables come from (see models/staging/crm/_crm__sources.yml):
    'seeds' (the demo seeds, loaded into schema raw), 'tables' (a loader's
    tables: the var crm_schema or env PIPELINE_CRM_SCHEMA names their
    schema), 'adapter' (the var crm: a CRM's own tables, written as the raw
    pair by its adapter, macros/crm_adapters.sql) or 'files' (raw_path:
    the export files the project's loader landed).
-#}
{% macro crm_tables_setting() -%}
    {%- do check_crm_identifier_vars() -%}
    {%- if raw_path_setting() is not none -%}
        {%- if crm_setting() != 'generic' -%}
            {{ exceptions.raise_compiler_error(
                "var raw_path reads export files of the generic raw pair; var crm " ~ crm_setting()
                ~ " reads the CRM's own tables (crm_schema): set one of them"
            ) }}
        {%- endif -%}
        {{ return('files') }}
    {%- elif crm_setting() != 'generic' -%}
        {{ return('adapter') }}
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
    {%- if crm_tables_setting() in ('files', 'adapter') -%}
        source_file
    {%- elif batch_column is not none -%}
        coalesce(cast({{ batch_column }} as {{ dbt.type_string() }}), '')
    {%- else -%}
        {{ sql_text(name) }}
    {%- endif -%}
{%- endmacro %}

{#-
    A raw table as the staging models read it: the demo seed (a ref, so
    dbt builds the seed first), or the source crm's table (a loader's, or
    the export files the project's loader landed).
-#}
{% macro crm_input(name) -%}
    {%- if crm_tables_setting() == 'seeds' -%}
        {{ return(ref(name)) }}
    {%- elif crm_tables_setting() == 'adapter' -%}
        {{ return(ref('base_' ~ crm_setting() ~ '__' ~ name)) }}
    {%- endif -%}
    {{ return(source('crm', name)) }}
{%- endmacro %}

{#-
    The entries of the raw_path folder as the loader last listed them, one
    row each (see stg_crm__export_folder); without raw_path the two raw
    tables (demo seeds or a loader's), counted, or with crm_batch_column
    their batches, one row each.
-#}
{% macro export_folder_entries() -%}
    {%- set listing = source('crm', 'export_folder') -%}
    {%- if crm_tables_setting() == 'files' %}
    select
        *,
        cast(null as {{ dbt.type_bigint() }}) as row_count
    from {{ listing }}
    {%- else -%}
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
    from {{ crm_input(name) }}
        {%- if crm_batch_column() is not none or crm_tables_setting() == 'adapter' %}
    group by {{ raw_source_file(name) }}
        {%- endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#-
    config_input(name): the rows of a configuration table, every column as
    text: the seed, or with config_path the loader's copy of
    <config_path>/<name>.csv (checked like an export file when loaded).
    Read through a CRM adapter, the stage list is the CRM's own
    (base_<crm>__pipeline_stages, with its pipeline_id and pipeline_name)
    unless config_path's pipeline_stages.csv has rows: then the file
    replaces it (its pipeline_id and pipeline_name are optional columns,
    sales_pipeline/load.py). exchange_rates has no seed: the
    demo's amounts are all in USD. Read through a CRM adapter without
    config_path, the benchmarks and revenue targets are none: the demo's
    name the demo's stages and plan made-up goals, never a CRM's.
-#}
{% macro config_input(name) -%}
    {%- set crm = crm_setting() -%}
    {%- if name == 'pipeline_stages' and crm != 'generic' -%}
        {%- set crm_stages = ref('base_' ~ crm ~ '__pipeline_stages') -%}
        {%- if config_path_setting() is none -%}
            {{ return(crm_stages) }}
        {%- endif -%}
        {%- set file_stages = source('config_files', name) -%}
        {%- set columns = [] -%}
        {%- for column in [
            'pipeline_id', 'pipeline_name', 'stage_key', 'stage_name', 'stage_order', 'stage_type', 'default_expected_days'
        ] -%}
            {%- do columns.append('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ column) -%}
        {%- endfor -%}
        {{ return(
            '(select ' ~ columns | join(', ') ~ ' from ' ~ file_stages
            ~ ' union all select ' ~ columns | join(', ') ~ ' from ' ~ crm_stages
            ~ ' where not exists (select 1 from ' ~ file_stages ~ ')) as pipeline_stages_input'
        ) }}
    {%- elif config_path_setting() is none and name == 'exchange_rates' -%}
        {{ return(none) }}
    {%- elif config_path_setting() is none and crm != 'generic' -%}
        {{ return('(select * from ' ~ ref(name) ~ ' where 1 = 0) as ' ~ name ~ '_input') }}
    {%- elif config_path_setting() is none -%}
        {{ return(ref(name)) }}
    {%- endif -%}
    {{ return(source('config_files', name)) }}
{%- endmacro %}

{#- file_format of a raw table that is not files: seed (the demo) or table (a loader's, or a CRM's). -#}
{% macro raw_table_format() -%}
    {{- 'seed' if crm_tables_setting() == 'seeds' else 'table' -}}
{%- endmacro %}
