-- The stages of the one pipeline the marts describe: crm_pipeline's, or
-- the only pipeline there is. Several pipelines and no crm_pipeline (or a
-- crm_pipeline that is none of them) stop the build here, naming them.
-- Open and won stages are numbered 1..n by display order (ties by key),
-- lost ones have none. Keys come from this pipeline's labels only:
-- another pipeline may use the same labels.
{%- set stages_relation = ref('base_hubspot__stages') %}
{%- set deals_relation = ref('base_hubspot__deals') %}
{%- set chosen = crm_pipeline_setting() %}
{%- if execute and flags.WHICH in ['run', 'build'] and model.resource_type != 'unit_test' %}
    {%- set pipelines = run_query(
        "select stages.pipeline_id, stages.pipeline_label, coalesce(deals.deal_count, 0)"
        ~ " from (select pipeline_id, max(pipeline_label) as pipeline_label from " ~ stages_relation
        ~ " group by pipeline_id) as stages"
        ~ " left join (select pipeline_id, count(*) as deal_count from " ~ deals_relation
        ~ " where left_out_reason is null or left_out_reason = 'other_pipeline' group by pipeline_id) as deals"
        ~ " on stages.pipeline_id = deals.pipeline_id order by stages.pipeline_id"
    ) %}
    {%- set ids = pipelines.rows | map(attribute=0) | list %}
    {%- if (chosen is none and ids | length > 1) or (chosen is not none and ids and chosen not in ids) %}
        {%- set lines = [] %}
        {%- for row in pipelines.rows %}
            {%- do lines.append(
                "  - '" ~ (row[0] or '') ~ "'" ~ (" (" ~ row[1] ~ ")" if row[1] else '') ~ ": " ~ row[2] ~ " deals"
            ) %}
        {%- endfor %}
        {{ exceptions.raise_compiler_error(
            ("HubSpot's deal stages hold " ~ ids | length ~ " pipelines and the marts describe one:"
                ~ " set the var crm_pipeline (env PIPELINE_CRM_PIPELINE) to the id of the pipeline to read."
                if chosen is none else
                "var crm_pipeline (env PIPELINE_CRM_PIPELINE) is '" ~ chosen ~ "', which is not a pipeline of"
                ~ " HubSpot's deal stages: set it to one of their ids.")
            ~ "\nThe pipelines (id, label, deals):\n" ~ lines | join('\n')
        ) }}
    {%- endif %}
{%- endif %}
with

stages as (

    select * from {{ stages_relation }}
    {%- if chosen is not none %}
    where pipeline_id = {{ sql_text(chosen) }}
    {%- endif %}

),

final as (

    select
        stage_id,
        stage_key,
        stage_name,
        stage_type,
        case
            when stage_type <> 'lost'
                then row_number() over (
                    partition by stage_type = 'lost' order by display_order, stage_key
                )
        end as stage_order
    from stages

)

select * from final
