{#
    Several pipelines (docs/metrics.md section 1): each stage belongs to
    one pipeline, and stage_key is unique across them, so a stage join
    needs no pipeline. Stage orders, the one won stage and the plan are
    per pipeline. A stage list that names no pipeline (the generic
    seed, or a file without pipeline_id) is one pipeline, the default.
#}

{% macro default_pipeline_id() -%}
    'default'
{%- endmacro %}

{% macro default_pipeline_name() -%}
    'Sales pipeline'
{%- endmacro %}

{#-
    The configuration input has the pipeline columns: a CRM adapter's
    stage list, and config_path's files (the loader lands the optional
    columns, empty when a file leaves them out); the demo seeds have none.
-#}
{% macro config_input_has_pipelines(name) -%}
    {{ return(config_path_setting() is not none or (name == 'pipeline_stages' and crm_setting() != 'generic')) }}
{%- endmacro %}

{#-
    Whether the stage list has several pipelines (a unit test, or stages
    not built yet, count as several): the models that keep a lead's
    changes in one pipeline skip that work only for a project of one.
-#}
{% macro several_pipelines() -%}
    {#- The models calling it read the stages already (a ref at parse time). -#}
    {%- set stages_ref = ref('int_pipeline_stages_ordered') -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- elif model.resource_type == 'unit_test' -%}
        {{ return(true) }}
    {%- endif -%}
    {#- Unsure (the stages not built yet, or built by an earlier
        version without pipelines: dbt compile, sqlfluff): the safe way,
        checking. -#}
    {%- set stages = load_relation(stages_ref) -%}
    {%- if stages is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set column_names = adapter.get_columns_in_relation(stages) | map(attribute='name') | map('lower') | list -%}
    {%- if 'pipeline_id' not in column_names -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set counted = run_query('select count(distinct pipeline_id) from ' ~ stages) -%}
    {{ return(counted.rows[0][0] > 1) }}
{%- endmacro %}

{#-
    A lead's usable changes (rejection_reason empty) in the order that
    decides its pipeline (entered_at, then the tie-break rank), numbered
    per lead; no rows in a project of one pipeline, where no change can be
    of another pipeline (int_lead_transitions_checked).
-#}
{% macro usable_changes_in_order(checked) -%}
    select
        lead_id,
        pipeline_id,
        {%- if several_pipelines() %}
        row_number() over (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
        ) as change_number
    from {{ checked }}
    where rejection_reason is null
        {%- else %}
        1 as change_number
    from {{ checked }}
    where 1 = 0
        {%- endif %}
{%- endmacro %}

{#-
    The pipeline of a lead without a stage of its own: the only pipeline
    when the stages (a relation or CTE with pipeline_id) form one, else no
    row (int_lead_outcomes, int_pipeline_targets).
-#}
{% macro only_pipeline(stages) -%}
    select max(pipeline_id) as pipeline_id
    from {{ stages }}
    having count(distinct pipeline_id) = 1
{%- endmacro %}
