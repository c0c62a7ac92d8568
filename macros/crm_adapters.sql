{#
    The CRM adapters (models/staging/<crm>/): with the var crm set to
    salesforce, hubspot or pipedrive, the raw pair and the stage list are
    the CRM's own tables as its loader landed them (var crm_loader), in
    the schema crm_schema names. Each adapter's base models write the
    generic contract (raw_leads, raw_lead_transitions, pipeline_stages:
    docs/metrics.md section 1) from those tables, and staging reads them as
    it reads the seeds. Loaders name the same column differently
    (Fivetran: snake_case, Airbyte: the API's names): crm_column picks the
    loader's name. YAML cannot call a macro: the tests of crm_setting are
    repeated in dbt_project.yml (+enabled) and the adapters' sources.
#}

{#-
    The loaders each CRM's adapter reads, the first its default. HubSpot
    through Airbyte: Airbyte lands a pipeline's stages as a JSON array in
    deal_pipelines.stages, which json_array_rows (macros/json_arrays.sql)
    unnests on each engine (models/staging/hubspot/_hubspot__sources.yml).
-#}
{% macro crm_loaders() -%}
    {{ return({
        'salesforce': ['fivetran', 'airbyte'],
        'hubspot': ['fivetran', 'dlt', 'airbyte'],
        'pipedrive': ['dlt', 'export'],
    }) }}
{%- endmacro %}

{#- The var crm (env PIPELINE_CRM): generic (the raw pair), or a CRM's name. -#}
{% macro crm_setting() -%}
    {%- set value = ((var('crm', env_var('PIPELINE_CRM', '')) or 'generic') | string | trim | lower) or 'generic' -%}
    {%- if value != 'generic' and value not in crm_loaders() -%}
        {{ exceptions.raise_compiler_error(
            "var crm (env PIPELINE_CRM) must be generic, " ~ crm_loaders().keys() | join(', ') ~ "; got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- The var crm_loader (env PIPELINE_CRM_LOADER): how the CRM's tables were landed. -#}
{% macro crm_loader_setting() -%}
    {%- set crm = crm_setting() -%}
    {%- if crm == 'generic' -%}
        {#- dbt parses every adapter's models, enabled or not. -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set allowed = crm_loaders()[crm] -%}
    {%- set value = ((var('crm_loader', env_var('PIPELINE_CRM_LOADER', '')) or '') | string | trim | lower) or allowed[0] -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error(
            "var crm_loader (env PIPELINE_CRM_LOADER) must be " ~ allowed | join(' or ') ~ " for crm " ~ crm ~ "; got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#-
    The var crm_pipeline (env PIPELINE_CRM_PIPELINE): the id of the one CRM
    pipeline to read (HubSpot and Pipedrive: a pipeline id; Salesforce: a
    record type id, or default for the opportunities without one), or none:
    every pipeline is read. With it, the deals of other pipelines are left
    out (other_pipeline), and an id that is no pipeline stops the build
    listing them.
-#}
{% macro crm_pipeline_setting() -%}
    {%- set value = (var('crm_pipeline', env_var('PIPELINE_CRM_PIPELINE', '')) or '') | string | trim -%}
    {{ return(value if value != '' else none) }}
{%- endmacro %}

{#-
    Stop the build with problems_sql's rows, if any: heading, one line per
    row (its first column), then advice. Only when building (as
    stop_on_config_errors), and not in a unit test, whose inputs are
    fixtures, not tables.
-#}
{% macro crm_stop_if_rows(problems_sql, heading, advice) -%}
    {%- if execute and flags.WHICH in ['run', 'build'] and model.resource_type != 'unit_test' -%}
        {%- set problems = run_query(problems_sql) -%}
        {%- if problems.rows | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in problems.rows -%}
                {%- do lines.append('  - ' ~ row[0]) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(heading ~ ':\n' ~ lines | join('\n') ~ '\n' ~ advice) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The prefix of a pipeline's stage keys: none ('') when one pipeline is
    read, so a single pipeline keeps its plain keys; with several,
    '<pipeline key>__', the pipeline key its name made a key (as
    stage_key_of; the id when the name makes no key), and a name two
    pipelines share followed by '_' and the id's key. pipelines names a
    relation or CTE with one row per pipeline read and the columns
    pipeline_id and pipeline_name; this macro is a select of pipeline_id,
    pipeline_name and key_prefix from it.
-#}
{% macro crm_pipeline_key_prefixes(pipelines) -%}
    select
        keyed.pipeline_id,
        keyed.pipeline_name,
        case
            when (select count(*) from {{ pipelines }}) <= 1 then ''
            when count(*) over (partition by keyed.pipeline_key) > 1
                then keyed.pipeline_key || '_' || {{ stage_key_of('keyed.pipeline_id') }} || '__'
            else keyed.pipeline_key || '__'
        end as key_prefix
    from (
        select
            pipeline_id,
            pipeline_name,
            coalesce(nullif({{ stage_key_of('pipeline_name') }}, ''), {{ stage_key_of('pipeline_id') }}) as pipeline_key
        from {{ pipelines }}
    ) as keyed
{%- endmacro %}

{#-
    The loader's name of a CRM column, quoted when it is not plain lower
    case (Airbyte keeps the API's CamelCase, which PostgreSQL only finds
    quoted). names: {loader: column name}; one name serves every loader.
-#}
{% macro crm_column(names) -%}
    {%- set loader = crm_loader_setting() -%}
    {%- set name = names if names is string else names.get(loader, names.values() | first) -%}
    {{- name if modules.re.match('^[a-z_][a-z0-9_]*$', name) else adapter.quote(name) -}}
{%- endmacro %}

{#- A CRM's stage name as a stage key: Negotiation/Review -> negotiation_review. -#}
{% macro stage_key_of(name) -%}
    trim(both '_' from {{ regex_replace('lower(trim(' ~ name ~ '))', '[^a-z0-9]+', '_') }})
{%- endmacro %}

{#- A CRM flag (boolean, or its text: true/false, 1/0, t/f) as true or false, null as false. -#}
{% macro crm_flag(column) -%}
    coalesce(lower(trim(cast({{ column }} as {{ dbt.type_string() }}))) in ('true', 't', '1', 'yes'), false)
{%- endmacro %}

{#- A CRM value as text, for the generic raw contract (every column text). -#}
{% macro crm_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{#-
    An adapter's left_out rows (rpt_data_quality): the deals left out per
    reason as raw_leads rows, and the stage changes left out per reason as
    raw_lead_transitions rows. deals and changes name CTEs of the caller;
    each row of deals carries left_out_reason, each row of changes the
    column change_reason (null: read).
-#}
{% macro crm_left_out_counts(deals, changes, change_reason='left_out_reason') -%}
    select
        'raw_leads' as table_name,
        left_out_reason as reason,
        count(*) as row_count
    from {{ deals }}
    where left_out_reason is not null
    group by left_out_reason

    union all

    select
        'raw_lead_transitions' as table_name,
        {{ change_reason }} as reason,
        count(*) as row_count
    from {{ changes }}
    where {{ change_reason }} is not null
    group by {{ change_reason }}
{%- endmacro %}

{#-
    The columns of the generic pipeline_stages (docs/metrics.md section 1)
    from an adapter's numbered stages (stage_key, stage_name, stage_order,
    stage_type, pipeline_id, pipeline_name): every column as text, no
    default expected days (the CRMs have none; the history gives them),
    and the stage's pipeline, its id and name.
-#}
{% macro crm_stage_list_columns() -%}
        stage_key,
        stage_name,
        {{ crm_text('stage_order') }} as stage_order,
        stage_type,
        cast(null as {{ dbt.type_string() }}) as default_expected_days,
        {{ crm_text('pipeline_id') }} as pipeline_id,
        {{ crm_text('pipeline_name') }} as pipeline_name
{%- endmacro %}

{#-
    The deals an adapter leaves out, one row per deal id (deal_id,
    left_out_reason): an id is left out when none of its rows is read (a
    repeated id keeps its history while one of its rows is a lead), under
    the first of its rows' reasons. deals is a relation or CTE with the
    column id_column and left_out_reason (null: read).
-#}
{% macro crm_left_out_deals(deals, id_column) -%}
    select
        {{ id_column }} as deal_id,
        min(left_out_reason) as left_out_reason
    from {{ deals }}
    group by {{ id_column }}
    having count(left_out_reason) = count(*)
{%- endmacro %}

{#-
    The CRM's table for source(source_name, table_name) when the loader
    landed it, else none: a table or column some CRM accounts lack (the
    dated rates and currency of a Salesforce org without multi-currency).
    Looked up from the source's definition. A dbt unit test, whose graph
    has no sources, gives the table's rows itself: landed.
-#}
{% macro crm_landed_relation(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if graph.get('sources') is none -%}
        {{ return(source(source_name, table_name)) }}
    {%- endif -%}
    {%- for node in graph.sources.values() if node.source_name == source_name and node.name == table_name -%}
        {{ return(adapter.get_relation(node.database, node.schema, node.identifier)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#-
    crm_column(names) of the landed table when it has that column, else
    null (and null in a dbt unit test, whose given rows need not have it).
-#}
{% macro crm_optional_column(source_name, table_name, names) -%}
    {%- set relation = crm_landed_relation(source_name, table_name) if graph.get('sources') is not none else none -%}
    {%- set wanted = crm_column(names) | replace('"', '') | replace('`', '') | lower -%}
    {%- if relation is not none -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower == wanted -%}
            {{ return(crm_column(names)) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return('null') }}
{%- endmacro %}

{#-
    The rows of a CRM table some accounts do not have: the landed table,
    or no rows with the given columns (each text) when it was not landed.
-#}
{% macro crm_optional_table(source_name, table_name, columns) -%}
    {%- if crm_landed_relation(source_name, table_name) is not none -%}
        select * from {{ source(source_name, table_name) }}
    {%- else -%}
        select
        {%- for column in columns %}
            cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
