-- One row per open stage S x stage T its cohort advanced into, as of
-- as_of_date (docs/metrics.md section 5): where deals go from S, skips
-- included. leads_advanced_to over S's leads_advanced is the share of the
-- advances; over S's completed and old leads it is the flow rate the win
-- probability chains (int_stage_win_probability). A T nobody advanced
-- into has no row.
with

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

flows as (

    select * from {{ ref('int_stage_flows') }}

),

final as (

    select
        conversion.as_of_date,
        conversion.pipeline_id,
        conversion.pipeline_name,
        flows.stage_key,
        flows.to_stage_key,
        flows.leads_advanced_to,
        {{ ratio('flows.leads_advanced_to', 'conversion.leads_advanced') }} as share_of_advanced,
        -- The conversion rate's denominator: the leads decided or stuck.
        {{ conversion_rate('flows.leads_advanced_to', 'conversion.leads_completed', 'conversion.leads_old') }}
            as flow_rate
    from flows
    inner join conversion
        on flows.stage_key = conversion.stage_key

)

select * from final
