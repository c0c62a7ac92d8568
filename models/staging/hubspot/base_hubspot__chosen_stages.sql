-- The stages of the pipelines read: crm_pipeline's, or every pipeline. A
-- crm_pipeline that is none of them stops the build here, naming them.
-- Open and won stages are numbered 1..n per pipeline by display order
-- (ties by key), lost ones have none. Keys come from the labels; with
-- several pipelines read, each is prefixed with its pipeline's key
-- (crm_pipeline_key_prefixes: sales__closed_won), since pipelines may use
-- the same labels.
{%- set stages_relation = ref('base_hubspot__stages') %}
{%- set deals_relation = ref('base_hubspot__deals') %}
{%- set chosen = crm_pipeline_setting() %}
{%- if chosen is not none and execute and flags.WHICH in ['run', 'build'] and model.resource_type != 'unit_test' %}
    {%- set pipelines = run_query(
        "select stages.pipeline_id, stages.pipeline_label, coalesce(deals.deal_count, 0)"
        ~ " from (select pipeline_id, max(pipeline_label) as pipeline_label from " ~ stages_relation
        ~ " group by pipeline_id) as stages"
        ~ " left join (select pipeline_id, count(*) as deal_count from " ~ deals_relation
        ~ " where left_out_reason is null or left_out_reason = 'other_pipeline' group by pipeline_id) as deals"
        ~ " on stages.pipeline_id = deals.pipeline_id order by stages.pipeline_id"
    ) %}
    {%- set ids = pipelines.rows | map(attribute=0) | list %}
    {%- if ids and chosen not in ids %}
        {%- set lines = [] %}
        {%- for row in pipelines.rows %}
            {%- do lines.append(
                "  - '" ~ (row[0] or '') ~ "'" ~ (" (" ~ row[1] ~ ")" if row[1] else '') ~ ": " ~ row[2] ~ " deals"
            ) %}
        {%- endfor %}
        {{ exceptions.raise_compiler_error(
            "var crm_pipeline (env PIPELINE_CRM_PIPELINE) is '" ~ chosen ~ "', which is not a pipeline of"
            ~ " HubSpot's deal stages: set it to one of their ids, or leave it empty to read every pipeline."
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

pipelines as (

    select
        pipeline_id,
        coalesce(max(pipeline_label), pipeline_id) as pipeline_name
    from stages
    group by pipeline_id

),

prefixes as (

    {{ crm_pipeline_key_prefixes('pipelines') }}

),

final as (

    select
        stages.pipeline_id,
        prefixes.pipeline_name,
        stages.stage_id,
        prefixes.key_prefix || stages.stage_key as stage_key,
        stages.stage_name,
        stages.stage_type,
        case
            when stages.stage_type <> 'lost'
                then row_number() over (
                    partition by stages.pipeline_id, stages.stage_type = 'lost'
                    order by stages.display_order, stages.stage_key
                )
        end as stage_order
    from stages
    inner join prefixes
        on stages.pipeline_id = prefixes.pipeline_id

)

select * from final
