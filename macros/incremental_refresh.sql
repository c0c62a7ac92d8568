{#
    How a daily refresh recomputes only what new raw rows touch.

    Reading a team's own exports (raw_path), stg_crm__export_files lists
    each export file once, when first loaded;
    the lead-level models (checks, visits) read only the rows of files
    loaded since their last build and replace the rows of the leads those
    rows belong to (delete+insert on lead_id: DuckDB, PostgreSQL and
    dbt-databricks run it). Every row records loaded_at, the start of the
    run that wrote it; a model's watermark is the newest loaded_at it holds,
    so what a run that failed half-way loaded is picked up by the next one.
    Aggregates and marts are rebuilt from these tables.

    A loader's tables (or the seeds) with the var crm_batch_column refresh
    the same way, a batch standing for a file; without it they are rebuilt
    in full (the demo seeds are small). `dbt build
    --full-refresh` rebuilds everything too, with the same result. Export
    files are append-only: a changed or removed file stops the build
    (macros/export_file_checks.sql); the publisher (make build,
    sales_pipeline/publish.py) then rebuilds from scratch by itself, as it
    does when the inputs (raw_path, configuration, ...) change.
#}

{#-
    table or incremental, for the models that can refresh by lead: export
    files, or tables with a batch column (crm_batch_column), are read a
    file or batch at a time.
-#}
{% macro lead_refresh_materialization() -%}
    {{ return(adapter.dispatch('lead_refresh_materialization', 'sales_pipeline')()) }}
{%- endmacro %}

{% macro default__lead_refresh_materialization() -%}
    {{ return('incremental' if crm_tables_setting() == 'files' or crm_batch_column() is not none else 'table') }}
{%- endmacro %}

{#- Spark without Delta cannot delete rows: every build is a full build. -#}
{% macro spark__lead_refresh_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- When this run started, the loaded_at of every row it writes. -#}
{% macro run_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The newest loaded_at this model holds; 1900 while it is empty. -#}
{% macro last_build_loaded_at() -%}
    (
        select coalesce(max(loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }}
    )
{%- endmacro %}

{#-
    The export files (or batches) of raw_table recorded since this model's
    last build, as a subquery of their names to filter source_file by.
    export_files is the model's ref('stg_crm__export_files'), taken outside
    any is_incremental() block so that dbt knows the dependency.
-#}
{% macro export_files_loaded_since_last_build(export_files, raw_table) -%}
    select file_name from {{ export_files }}
    where raw_table = {{ sql_text(raw_table) }} and loaded_at > {{ last_build_loaded_at() }}
{%- endmacro %}

{#-
    The newest loaded_at a lead-level model holds and the as-of instant it
    was built with: what its refresh compares the new rows and the new
    as-of date with. A table an earlier version of the project built
    without them stops the build with what to run.
-#}
{% macro last_build() -%}
    {%- if execute -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'loaded_at' not in stored or 'as_of_at' not in stored -%}
            {{ exceptions.raise_compiler_error(
                this.schema ~ "." ~ this.identifier ~ " was built by an earlier version of the project, which stored no loaded_at"
                ~ " or as_of_at to refresh from: rebuild once with `dbt build --full-refresh`"
                ~ " (make build and Dagster rebuild from scratch by themselves)"
            ) }}
        {%- endif -%}
    {%- endif %}
    select
        {{ last_build_loaded_at() }} as loaded_at,
        max(as_of_at) as as_of_at
    from {{ this }}
{%- endmacro %}

{#-
    delete+insert replaces the leads a refresh rebuilt. A lead can also
    lose its rows: a later file quarantines it (a conflicting row), or the
    as-of date moves back before the instant a row exists from (a visit's
    entered_at, a lead's created_at). Those rows are dropped here.
-#}
{% macro drop_rows_no_lead_has(exists_from) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            lead_id in (
                select lead_id from {{ ref('int_leads_checked') }}
                where rejection_reason is not null
            )
            or {{ exists_from }} >= (select as_of_at from {{ ref('int_pipeline_as_of') }})
    {%- endif -%}
{%- endmacro %}
