{#
    What stg_crm__export_files records: one row per export file the loader
    landed (sales_pipeline.load, which inspects every file and stops on one
    that cannot be read or that changed since it was loaded), or, without
    raw_path, per raw table or batch. Each is recorded once, when a build
    first reads it, with that build's loaded_at (macros/incremental_refresh.sql).
#}

{#-
    The rows of stg_crm__export_files this build adds: the export files of
    the load ledger it has not recorded yet; or the raw tables (demo seeds
    or a loader's), or their batches not recorded yet, with the row counts
    the folder listing took.
-#}
{% macro export_file_rows() -%}
    {%- set ledger = source('crm', 'load_ledger') -%}
    {#- After the folder listing in every mode, as rpt_export_files reads both. -#}
    {%- set folder = ref('stg_crm__export_folder') -%}
    {%- if building_models() and is_incremental() and crm_batch_column() is not none -%}
        {%- do stop_on_changed_batches(folder) -%}
    {%- endif -%}
    {%- if building_models() and is_incremental() and crm_tables_setting() == 'files' -%}
        {%- do stop_on_tables_among_files() -%}
    {%- endif -%}
    {%- if crm_tables_setting() == 'files' %}
    select
        loaded.raw_table,
        loaded.file_name,
        loaded.file_path,
        loaded.file_format,
        loaded.read_options,
        loaded.column_names,
        loaded.row_count,
        loaded.file_size_bytes,
        loaded.file_modified_at
    from {{ ledger }} as loaded
    {%- else %}
    select
        folder.raw_table,
        folder.file_name,
        folder.file_path,
        folder.file_format,
        cast(null as {{ dbt.type_string() }}) as read_options,
        cast(null as {{ dbt.type_string() }}) as column_names,
        folder.row_count,
        folder.file_size_bytes,
        folder.file_modified_at
    from {{ folder }} as folder
    {%- endif %}
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as recorded
        where recorded.raw_table = {{ 'loaded' if crm_tables_setting() == 'files' else 'folder' }}.raw_table
            and recorded.file_name = {{ 'loaded' if crm_tables_setting() == 'files' else 'folder' }}.file_name
    )
    {%- endif %}
{%- endmacro %}

{#- True while dbt runs models (not while it parses, compiles or documents). -#}
{% macro building_models() -%}
    {{ return(execute and flags.WHICH in ['run', 'build']) }}
{%- endmacro %}

{#-
    Batches of a loader's tables (crm_batch_column) are append-only like
    export files: a loaded batch whose rows changed in number, or that is
    gone, stops the build with one line each.
-#}
{% macro stop_on_changed_batches(folder) -%}
    {%- set messages = [] -%}
    {%- for batch in run_query(
        "select loaded.raw_table, loaded.file_name, loaded.row_count, now.row_count "
        ~ "from " ~ this ~ " as loaded left join " ~ folder ~ " as now "
        ~ "on loaded.raw_table = now.raw_table and loaded.file_name = now.file_name "
        ~ "where now.file_name is null or now.row_count != loaded.row_count "
        ~ "order by loaded.raw_table, loaded.file_name"
    ).rows -%}
        {%- if batch[3] is none -%}
            {%- do messages.append(batch[0] ~ " batch '" ~ batch[1] ~ "' was removed") -%}
        {%- else -%}
            {%- do messages.append(
                batch[0] ~ " batch '" ~ batch[1] ~ "' has " ~ '{:,}'.format(batch[3] | int)
                ~ ' rows now, ' ~ '{:,}'.format(batch[2] | int) ~ ' when loaded'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if messages -%}
        {{ exceptions.raise_compiler_error(
            'Batches changed since the warehouse loaded them (crm_batch_column '
            ~ crm_batch_column() ~ '):\n  - ' ~ messages | join('\n  - ')
            ~ '\nBatches are append-only: a refresh reads new batches, never a changed one again. '
            ~ 'Rebuild from scratch: dbt build --full-refresh.'
        ) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Export files meeting a warehouse built from the demo seeds or a
    loader's tables (a plain dbt build; the publisher starts from scratch
    instead) would mix the two: the build stops, naming what it holds.
-#}
{% macro stop_on_tables_among_files() -%}
    {%- set messages = [] -%}
    {%- for held in run_query(
        "select file_name, file_format from " ~ this
        ~ " where file_format in ('seed', 'table') order by file_name"
    ).rows -%}
        {%- do messages.append(
            'the warehouse holds the ' ~ ('demo seed ' if held[1] == 'seed' else 'table ') ~ held[0]
            ~ ': it was built without raw_path'
        ) -%}
    {%- endfor -%}
    {%- if messages -%}
        {{ exceptions.raise_compiler_error(
            'Export files cannot be added to this warehouse (raw_path ' ~ raw_path_setting() ~ '):\n  - '
            ~ messages | join('\n  - ')
            ~ '\nRebuild from scratch: `make build RAW_PATH=...` (or python -m sales_pipeline.publish) '
            ~ 'does it by itself; a plain dbt build needs --full-refresh.'
        ) }}
    {%- endif -%}
{%- endmacro %}
