-- The generic pipeline_stages (docs/metrics.md section 1) from the stages
-- of the pipeline read (base_hubspot__chosen_stages): no default expected
-- days (the history gives them). A config_path's pipeline_stages.csv
-- replaces it.
with

stages as (

    select * from {{ ref('base_hubspot__chosen_stages') }}

),

final as (

    select
        stage_key,
        stage_name,
        {{ crm_text('stage_order') }} as stage_order,
        stage_type,
        cast(null as {{ dbt.type_string() }}) as default_expected_days
    from stages

)

select * from final
