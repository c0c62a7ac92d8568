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
    Whether the stage list has several pipelines, when building (a unit
    test assumes so): the models that keep a lead's changes in one
    pipeline skip that work for a project of one.
-#}
{% macro several_pipelines() -%}
    {#- The models calling it read the stages already (a ref at parse time). -#}
    {%- set stages_ref = ref('int_pipeline_stages_ordered') -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- elif model.resource_type == 'unit_test' -%}
        {{ return(true) }}
    {%- elif flags.WHICH not in ['run', 'build'] -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stages = load_relation(stages_ref) -%}
    {%- if stages is none -%}
        {{ return(false) }}
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
