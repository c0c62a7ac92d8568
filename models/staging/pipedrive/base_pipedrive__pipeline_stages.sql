-- sqlfluff:indentation:template_blocks_indent:False
-- The generic pipeline_stages (docs/metrics.md section 1) from Pipedrive's
-- stages, each with its pipeline (id, and the id as its name). dlt: every
-- stage of each pipeline read (crm_pipeline's, or every pipeline) is open,
-- numbered 1..n per pipeline by order_nr (ties by key); Pipedrive closes a
-- deal by its status, not a stage, so the adapter adds to each pipeline
-- the stages won (order n + 1) and lost (no order). With several
-- pipelines read, every key is prefixed with its pipeline's key (1__won).
-- export (one pipeline): the stages before the won stage (var
-- crm_won_stage) are open, numbered by stage_id, the won stage is won, the
-- ones after it post-sale (not listed), and lost is added. No default
-- expected days (the history gives them). A config_path's
-- pipeline_stages.csv replaces it. The build stops when crm_pipeline is
-- none of the stages' pipelines, and (export) when no stage has the won
-- stage's name.
{%- set stages_relation = ref('base_pipedrive__stages') %}
{%- if crm_loader_setting() == 'export' %}
{%- set won_stage = pipedrive_won_stage_setting() %}
{%- do pipedrive_stop_if_rows(
    "select stage_id || ' ' || stage_name from " ~ stages_relation
    ~ " where not exists (select 1 from " ~ stages_relation ~ " where stage_key = "
    ~ stage_key_of(sql_text(won_stage)) ~ ") order by order_nr, stage_id",
    "var crm_won_stage " ~ won_stage | tojson ~ " names no Pipedrive stage; the stages (id name) are",
    "Set crm_won_stage to the name of the stage a deal is won in."
) %}
{%- elif crm_pipeline_setting() is not none %}
{%- set deals_relation = ref('base_pipedrive__deals') %}
{%- do pipedrive_stop_if_rows(
    "with stage_counts as (select pipeline_id, count(*) as stage_count from " ~ stages_relation
    ~ " group by pipeline_id), deal_counts as (select pipeline_id, count(*) as deal_count from "
    ~ deals_relation ~ " where left_out_reason is null or left_out_reason = 'other_pipeline'"
    ~ " group by pipeline_id)"
    ~ " select 'pipeline ' || stage_counts.pipeline_id || ': '"
    ~ " || cast(stage_counts.stage_count as " ~ dbt.type_string() ~ ") || ' stages, '"
    ~ " || cast(coalesce(deal_counts.deal_count, 0) as " ~ dbt.type_string() ~ ") || ' deals'"
    ~ " from stage_counts left join deal_counts on stage_counts.pipeline_id = deal_counts.pipeline_id"
    ~ " where not exists (select 1 from " ~ stages_relation ~ " where is_read)"
    ~ " order by stage_counts.pipeline_id",
    "var crm_pipeline (env PIPELINE_CRM_PIPELINE) is " ~ crm_pipeline_setting() | tojson
    ~ ", which is none of the pipelines of Pipedrive's stages",
    "Set crm_pipeline to one of their ids, or leave it empty to read every pipeline."
) %}
{%- endif %}
with

stages as (

    select * from {{ stages_relation }}
    where is_read

),

pipelines as (

    select distinct
        pipeline_id,
        pipeline_name,
        key_prefix
    from stages

),
{%- if crm_loader_setting() == 'export' %}

won_stage as (

    select min(order_nr) as order_nr
    from stages
    where stage_key = {{ stage_key_of(sql_text(won_stage)) }}

),

listed as (

    select
        stages.pipeline_id,
        stages.pipeline_name,
        stages.stage_key,
        stages.stage_name,
        case when stages.order_nr = won_stage.order_nr then 'won' else 'open' end as stage_type,
        stages.order_nr
    from stages
    cross join won_stage
    where stages.order_nr <= won_stage.order_nr

),
{%- else %}

listed as (

    select
        pipeline_id,
        pipeline_name,
        key_prefix || stage_key as stage_key,
        stage_name,
        'open' as stage_type,
        order_nr
    from stages

    union all

    select
        pipeline_id,
        pipeline_name,
        key_prefix || 'won' as stage_key,
        'Won' as stage_name,
        'won' as stage_type,
        cast(null as {{ type_double() }}) as order_nr
    from pipelines

),
{%- endif %}

numbered as (

    select
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_name,
        stage_type,
        row_number() over (
            partition by pipeline_id
            order by case when stage_type = 'won' then 1 else 0 end, order_nr, stage_key
        ) as stage_order
    from listed

),

final as (

    select
        {{ crm_stage_list_columns() }}
    from numbered

    union all

    select
        key_prefix || 'lost' as stage_key,
        {{ sql_text('Lost (lost_reason set)' if crm_loader_setting() == 'export' else 'Lost') }} as stage_name,
        cast(null as {{ dbt.type_string() }}) as stage_order,
        'lost' as stage_type,
        cast(null as {{ dbt.type_string() }}) as default_expected_days,
        pipeline_id,
        pipeline_name
    from pipelines

)

select * from final
