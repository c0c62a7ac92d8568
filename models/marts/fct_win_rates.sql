-- Win rate and sales cycle as of as_of_date, overall and per dimension
-- value (docs/metrics.md section 9): of the leads decided (now in a won or
-- lost stage), how many were won, the average won deal, and how long won
-- leads took from their first stage change to their first entry into a won
-- stage. Per pipeline (macros/pipelines.sql): a lead without a pipeline
-- has no stage change, so it is not decided.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

outcomes as (

    select
        outcomes.pipeline_id,
        outcomes.{{ lead_dimensions() | join(',\n        outcomes.') }},
        case when outcomes.current_stage_type in ('won', 'lost') then 1 else 0 end as is_decided,
        case when outcomes.current_stage_type = 'won' then 1 else 0 end as is_won,
        case when outcomes.current_stage_type = 'lost' then 1 else 0 end as is_lost,
        -- The amount in the reporting currency.
        case when outcomes.current_stage_type = 'won' then amounts.deal_amount_reporting end as won_deal_usd,
        outcomes.sales_cycle_microseconds
    from {{ ref('int_lead_outcomes') }} as outcomes
    left join {{ ref('int_lead_amounts') }} as amounts
        on outcomes.lead_id = amounts.lead_id
    where outcomes.pipeline_id is not null

),

counted as (

    -- Every lead once overall, and once per dimension under its value.
    select
        pipeline_id,
        {{ grouped_dimension() }} as dimension,
        {{ grouped_dimension_value() }} as dimension_value,
        sum(is_decided) as leads_decided,
        sum(is_won) as leads_won,
        sum(is_lost) as leads_lost,
        -- avg leaves out won leads without an amount.
        avg(won_deal_usd) as avg_won_deal_usd,
        -- Whole microseconds summed exactly, as for the days to advance.
        sum(sales_cycle_microseconds) as sales_cycle_microseconds,
        count(sales_cycle_microseconds) as won_lead_count,
        {{ median('sales_cycle_microseconds') }} as median_sales_cycle_microseconds
    from outcomes
    group by {{ dimension_grouping_sets(keys=['pipeline_id'], overall=true) }}  -- noqa: PRS

),

pipelines as (

    select distinct
        pipeline_id,
        pipeline_name
    from {{ ref('int_pipeline_stages_ordered') }}

),

final as (

    select
        as_of.as_of_date,
        counted.pipeline_id,
        pipelines.pipeline_name,
        counted.dimension,
        counted.dimension_value,
        cast(counted.leads_decided as {{ dbt.type_int() }}) as leads_decided,
        cast(counted.leads_won as {{ dbt.type_int() }}) as leads_won,
        cast(counted.leads_lost as {{ dbt.type_int() }}) as leads_lost,
        {{ win_rate('counted.leads_won', 'counted.leads_decided') }} as win_rate,
        cast(counted.avg_won_deal_usd as {{ type_double() }}) as avg_won_deal_usd,
        {{ microseconds_to_days(ratio('counted.sales_cycle_microseconds', 'counted.won_lead_count')) }}
            as avg_sales_cycle_days,
        {{ microseconds_to_days('counted.median_sales_cycle_microseconds') }} as median_sales_cycle_days,
        {{ reporting_currency_column() }}
    from counted
    cross join as_of
    inner join pipelines
        on counted.pipeline_id = pipelines.pipeline_id
    where as_of.as_of_date is not null

)

select * from final
