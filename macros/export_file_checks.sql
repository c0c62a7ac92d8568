{#
    The export files' rules, checked when stg_crm__export_files is built,
    before any model reads a file. A file that cannot be read as the CSV or
    Parquet export it is named as, a file loaded earlier that changed or
    disappeared, or a missing export stops the build there with one line
    per problem, naming the file and, where it can be known, the line:

        Export file error in /data/exports:
          - raw_lead_transitions_2.csv line 57: 2 fields instead of 3
          - raw_leads.csv is gzip-compressed but named .csv: name it raw_leads.csv.gz
        Fix or remove these files and build again; no model was built from them.

    The inspection itself (bytes, encoding, header, every line through
    DuckDB's reader) is the plugin's sales_pipeline_inspect_file
    (plugins/sales_pipeline_files.py).
#}

{#-
    The export files this build reads for the first time, each inspected:
    a list of dicts with the stg_crm__export_files columns. Stops the build
    on any problem.
-#}
{% macro inspect_new_export_files() -%}
    {%- if building_models() and is_incremental() and crm_batch_column() is not none -%}
        {%- do stop_on_changed_batches(ref('stg_crm__export_folder')) -%}
    {%- endif -%}
    {%- if raw_path_setting() is none or not building_models() -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set folder = ref('stg_crm__export_folder') -%}
    {%- set problems = [] -%}
    {%- set moved = [] -%}

    {%- for entry in run_query(
        "select file_name, raw_table, reason from " ~ folder ~ " where status = 'refused' order by file_name"
    ).rows -%}
        {%- do problems.append(entry[2] if entry[1] is none else entry[0] ~ ' ' ~ entry[2]) -%}
    {%- endfor -%}

    {%- if is_incremental() -%}
        {%- do moved.extend(changed_export_files(folder)) -%}
    {%- endif -%}

    {%- set encoding = input_encoding_setting() -%}
    {%- set inspected = run_query(
        "select file_name, file_path, raw_table, file_format, file_size_bytes, "
        ~ "cast(file_modified_at as varchar), sales_pipeline_inspect_file(file_path, file_format, case raw_table "
        ~ "when 'raw_leads' then " ~ sql_text(raw_columns('raw_leads') | join(',')) ~ " "
        ~ "else " ~ sql_text(raw_columns('raw_lead_transitions') | join(',')) ~ " end, " ~ sql_text(encoding) ~ ") "
        ~ "from " ~ folder ~ " as folder where status = 'export'"
        ~ (" and file_name not in (select file_name from " ~ this ~ ")" if is_incremental() else "")
        ~ " order by file_name"
    ) -%}
    {%- set new_files = [] -%}
    {%- for file in inspected.rows -%}
        {%- set plan = fromjson(file[6]) -%}
        {%- if plan.in_flight -%}
            {#- Changed while inspected: rpt_export_files lists it as waiting. -#}
            {%- do exceptions.warn(
                'Export file ' ~ file[0] ~ ' changed while it was inspected (still being written?):'
                ~ ' left for the next build'
            ) -%}
        {%- else -%}
        {%- for problem in plan.problems -%}
            {%- do problems.append(file[0] ~ ' ' ~ problem) -%}
        {%- endfor -%}
        {%- do new_files.append({
            'file_name': file[0], 'file_path': file[1], 'raw_table': file[2], 'file_format': file[3],
            'file_size_bytes': file[4], 'file_modified_at': file[5], 'read_options': plan.read_options,
            'column_names': tojson(plan.columns) if plan.columns is not none else none,
            'row_count': plan.row_count,
        }) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not is_incremental() -%}
        {%- set waiting = run_query(
            "select raw_table, file_name from " ~ folder ~ " where status = 'waiting' order by file_name"
        ).rows -%}
        {%- for raw_table in ['raw_leads', 'raw_lead_transitions'] -%}
            {%- if raw_table not in new_files | map(attribute='raw_table') | list -%}
                {%- set unsettled = waiting | selectattr(0, 'equalto', raw_table) | map(attribute=1) | list -%}
                {%- do problems.append(
                    'no ' ~ raw_table ~ ' export: raw_path must hold at least one file named '
                    ~ raw_table ~ '*.' ~ ('parquet' if raw_format_setting() == 'parquet' else 'csv')
                    ~ ' (a file with the header only is an empty export)'
                    ~ ('; ' ~ unsettled | join(', ') ~ ' was written a moment ago: build again once it is complete'
                       if unsettled else '')
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {%- if moved -%}
        {{ exceptions.raise_compiler_error(
            'Export files changed since the warehouse loaded them (in ' ~ raw_path_setting() ~ '):\n  - '
            ~ moved | join('\n  - ')
            ~ '\nExport files are append-only: a refresh reads new files, never a changed one again. '
            ~ 'Rebuild from scratch: `make build RAW_PATH=...` (or python -m sales_pipeline.publish) '
            ~ 'does it by itself; a plain dbt build needs --full-refresh.'
        ) }}
    {%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            'Export file error in ' ~ raw_path_setting() ~ ':\n  - ' ~ problems | join('\n  - ')
            ~ '\nFix or remove these files and build again; no model was built from them.'
        ) }}
    {%- endif -%}
    {{ return(new_files) }}
{%- endmacro %}

{#-
    The files this warehouse loaded that are no longer as they were (size
    or modification time) or no longer there, one message each. A
    warehouse built from the demo seeds holds no files.
-#}
{% macro changed_export_files(folder) -%}
    {%- set messages = [] -%}
    {%- for file in run_query(
        "select loaded.file_name, loaded.file_format, strftime(loaded.loaded_at, '%Y-%m-%d %H:%M:%S UTC'), "
        ~ "loaded.file_size_bytes, folder.file_size_bytes, folder.file_name is null "
        ~ "from " ~ this ~ " as loaded left join " ~ folder ~ " as folder "
        ~ "on loaded.file_name = folder.file_name and folder.status in ('export', 'waiting') "
        ~ "where folder.file_name is null "
        ~ "or loaded.file_size_bytes is distinct from folder.file_size_bytes "
        ~ "or loaded.file_modified_at is distinct from folder.file_modified_at "
        ~ "order by loaded.file_name"
    ).rows -%}
        {%- if file[1] in ('seed', 'table') -%}
            {%- do messages.append(
                'the warehouse holds the ' ~ ('demo seed ' if file[1] == 'seed' else 'table ') ~ file[0]
                ~ ': it was built without raw_path'
            ) -%}
        {%- elif file[5] -%}
            {%- do messages.append(file[0] ~ ' was removed (loaded ' ~ file[2] ~ ')') -%}
        {%- elif file[3] != file[4] -%}
            {%- do messages.append(
                file[0] ~ ' changed: ' ~ '{:,}'.format(file[4]) ~ ' bytes now, '
                ~ '{:,}'.format(file[3]) ~ ' when loaded (' ~ file[2] ~ ')'
            ) -%}
        {%- else -%}
            {%- do messages.append(
                file[0] ~ ' changed: modified after it was loaded (' ~ file[2] ~ '), same size'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(messages) }}
{%- endmacro %}

{#-
    A configuration file of config_path, inspected like an export file:
    how to read it, or the build stops naming its problems.
-#}
{% macro inspect_config_file(path, columns) -%}
    {%- set plan = fromjson(run_query(
        "select sales_pipeline_inspect_file(" ~ sql_text(path) ~ ", 'csv', "
        ~ sql_text(columns | join(',')) ~ ", " ~ sql_text(input_encoding_setting()) ~ ")"
    ).columns[0].values()[0]) -%}
    {%- if plan.problems -%}
        {{ exceptions.raise_compiler_error(
            'Configuration file error: ' ~ path ~ ' ' ~ plan.problems | join('\n  - ' ~ path ~ ' ')
            ~ '\nFix the file (config_path) and build again; no model was built from it.'
        ) }}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{#-
    The rows of stg_crm__export_files: the raw tables (demo seeds or a
    loader's), or their batches not loaded yet, with the row counts the
    folder listing took; or the export files this build reads for the
    first time (from inspect_new_export_files), as literals.
-#}
{% macro export_file_rows(new_files) -%}
    {%- set columns = ['raw_table', 'file_name', 'file_path', 'file_format', 'read_options', 'column_names'] -%}
    {%- if raw_path_setting() is none -%}
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
    from {{ ref('stg_crm__export_folder') }} as folder
        {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as loaded
        where loaded.raw_table = folder.raw_table and loaded.file_name = folder.file_name
    )
        {%- endif %}
    {%- else -%}
        {%- for file in new_files %}
        {%- if not loop.first %}
    union all
        {%- endif %}
    select
        {%- for column in columns %}
        {{ sql_text(file[column]) }} as {{ column }},
        {%- endfor %}
        {{ file.row_count }} as row_count,
        {{ file.file_size_bytes }} as file_size_bytes,
        cast({{ sql_text(file.file_modified_at) }} as {{ dbt.type_timestamp() }}) as file_modified_at
        {%- else %}
    select
        {%- for column in columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_bigint() }}) as row_count,
        cast(null as {{ dbt.type_bigint() }}) as file_size_bytes,
        cast(null as {{ dbt.type_timestamp() }}) as file_modified_at
    where 1 = 0
        {%- endfor %}
    {%- endif -%}
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
