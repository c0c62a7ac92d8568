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
