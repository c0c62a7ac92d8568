-- One row per stage of every deal pipeline, with its pipeline, its label
-- made a stage key and its type: won, lost or open. Fivetran has a won
-- flag (closed_won) and no closed one: a stage that is not won with
-- probability 0 is lost (HubSpot gives closed lost stages 0). dlt has
-- HubSpot's isClosed: a closed stage is won with probability 1, else lost.
-- dlt lands the stages as a child table of the pipelines (_dlt_parent_id).
{%- set dlt = crm_loader_setting() == 'dlt' %}
{#- closed_flag: dlt's isClosed, Fivetran's closed_won. #}
{%- set is_won = 'closed_flag and probability >= 1' if dlt else 'closed_flag' %}
{%- set is_lost = 'closed_flag' if dlt else 'probability = 0' %}
with

stages as (

    select
        {{ crm_text('pipeline_rows.id' if dlt else 'stage_rows.pipeline_id') }} as pipeline_id,
        {{ crm_text('pipeline_rows.label') }} as pipeline_label,
        {{ crm_text('stage_rows.id' if dlt else 'stage_rows.stage_id') }} as stage_id,
        {{ crm_text('stage_rows.label') }} as stage_name,
        {{ try_cast(crm_text('stage_rows.display_order'), type_double()) }} as display_order,
        {{ try_cast(
            crm_text('stage_rows.metadata__probability' if dlt else 'stage_rows.probability'), type_double()
        ) }} as probability,
        {{ crm_flag('stage_rows.metadata__is_closed' if dlt else 'stage_rows.closed_won') }} as closed_flag
    from {{ source('hubspot', 'deal_pipeline_stage') }} as stage_rows
    left join {{ source('hubspot', 'deal_pipeline') }} as pipeline_rows
        on {{ 'stage_rows._dlt_parent_id = pipeline_rows._dlt_id' if dlt
            else 'stage_rows.pipeline_id = pipeline_rows.pipeline_id' }}

),

typed as (

    select
        *,
        case
            when {{ is_won }} then 'won'
            when {{ is_lost }} then 'lost'
            else 'open'
        end as stage_type
    from stages

),

final as (

    select
        pipeline_id,
        pipeline_label,
        stage_id,
        {{ stage_key_of('stage_name') }} as stage_key,
        stage_name,
        display_order,
        stage_type
    from typed

)

select * from final
