-- One row per target month x open stage: working backwards from the
-- revenue goal to the deals and the leads needed in each stage, and the gap
-- to the leads there now (docs/metrics.md section 5). The leads needed
-- follow where deals actually go (win_probability, skips included); the
-- guide's product of stage rates is kept beside it. Per pipeline, for the
-- targets int_pipeline_targets gives it.
with

targets as (

    select * from {{ ref('int_pipeline_targets') }}

),

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

current_leads as (

    select current_stage_key as stage_key from {{ ref('int_lead_outcomes') }}
    where current_stage_key is not null

),

overall_win_rate as (

    -- The average won deal is the win rates' (docs/metrics.md section 9).
    select
        pipeline_id,
        avg_won_deal_usd
    from {{ ref('fct_win_rates') }}
    where dimension = 'overall'

),

leads_in_stage as (

    select
        stage_key,
        count(*) as leads_in_stage
    from current_leads
    group by stage_key

),

cumulative as (

    -- The guide's chain: the product of the conversion rates from a stage
    -- down to the won stage.
    select
        stage_key,
        {{ cumulative_product('conversion_rate', 'stage_order desc', partition_by='pipeline_id') }}
            as cumulative_conversion_rate
    from conversion

),

win_probability as (

    select * from {{ ref('int_stage_win_probability') }}

),

deals as (

    select
        targets.pipeline_id,
        targets.target_month,
        targets.revenue_target_usd,
        coalesce(targets.avg_deal_size_usd, overall_win_rate.avg_won_deal_usd) as avg_deal_size_usd
    from targets
    -- No decided lead yet: no win rate row, and the target's own size alone.
    left join overall_win_rate
        on targets.pipeline_id = overall_win_rate.pipeline_id

),

planned as (

    select
        deals.target_month,
        conversion.pipeline_id,
        conversion.pipeline_name,
        conversion.stage_key,
        conversion.stage_order,
        deals.revenue_target_usd,
        deals.avg_deal_size_usd,
        {{ whole_units_needed(ratio('deals.revenue_target_usd', 'deals.avg_deal_size_usd')) }} as deals_needed,
        cumulative.cumulative_conversion_rate,
        win_probability.win_probability,
        coalesce(leads_in_stage.leads_in_stage, 0) as leads_in_stage
    from deals
    inner join conversion
        on deals.pipeline_id = conversion.pipeline_id
    inner join cumulative
        on conversion.stage_key = cumulative.stage_key
    inner join win_probability
        on conversion.stage_key = win_probability.stage_key
    left join leads_in_stage
        on conversion.stage_key = leads_in_stage.stage_key

),

needed as (

    select
        *,
        {{ whole_units_needed(ratio('deals_needed', 'win_probability')) }} as leads_needed
    from planned

),

final as (

    select
        target_month,
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_order,
        revenue_target_usd,
        avg_deal_size_usd,
        deals_needed,
        cumulative_conversion_rate,
        win_probability,
        leads_needed,
        cast(leads_in_stage as {{ dbt.type_bigint() }}) as leads_in_stage,
        leads_needed - leads_in_stage as lead_gap,
        {{ reporting_currency_column() }}
    from needed

)

select * from final
