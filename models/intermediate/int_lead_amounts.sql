-- Each lead's deal amount in the reporting currency (docs/metrics.md
-- section 15): a won deal's at the rate valid on its won date (the day
-- it first entered a won stage, in business_time_zone), every other
-- deal's at the rate valid on the as-of date. An amount in the reporting
-- currency is itself; one whose currency has no rate on that date is
-- empty, noted no_exchange_rate (rpt_data_quality counts it, and a test
-- warns). Not incremental: a new as-of date moves every open deal's date.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

rates as (

    select * from {{ ref('int_exchange_rates') }}

),

dated as (

    select
        outcomes.lead_id,
        outcomes.current_stage_key,
        outcomes.current_stage_type,
        outcomes.deal_amount,
        outcomes.deal_currency,
        case
            when outcomes.current_stage_type = 'won'
                then cast({{ utc_to_business_time('outcomes.first_won_at') }} as date)
            else as_of.as_of_date
        end as rate_date
    from {{ ref('int_lead_outcomes') }} as outcomes
    cross join as_of

),

converted as (

    select
        dated.lead_id,
        dated.current_stage_key,
        dated.current_stage_type,
        dated.deal_amount,
        dated.deal_currency,
        dated.rate_date,
        case
            when dated.deal_currency = {{ sql_text(reporting_currency()) }} then 1.0
            else rates.rate_to_reporting
        end as exchange_rate
    from dated
    left join rates
        on
            dated.deal_currency = rates.currency
            and dated.rate_date >= rates.valid_from
            and (rates.valid_to is null or dated.rate_date < rates.valid_to)

),

final as (

    select
        lead_id,
        current_stage_key,
        current_stage_type,
        deal_amount,
        deal_currency,
        rate_date,
        cast(exchange_rate as {{ type_double() }}) as exchange_rate,
        -- Money to the millionth, as amounts are stored, and summed exactly
        -- downstream; the reporting currency's own amounts stay as written.
        case
            when deal_currency = {{ sql_text(reporting_currency()) }} then deal_amount
            else cast(deal_amount * exchange_rate as {{ dbt.type_numeric() }})
        end as deal_amount_reporting,
        case when deal_amount is not null and exchange_rate is null then 'no_exchange_rate' end as amount_note
    from converted

)

select * from final
