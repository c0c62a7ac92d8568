-- The generic pipeline_stages (docs/metrics.md section 1) from the stages
-- of the pipelines read (base_hubspot__chosen_stages), each with its
-- pipeline's id and label: no default expected days (the history gives
-- them). A config_path's pipeline_stages.csv replaces it.
with

stages as (

    select * from {{ ref('base_hubspot__chosen_stages') }}

),

final as (

    select
        {{ crm_stage_list_columns() }}
    from stages

)

select * from final
