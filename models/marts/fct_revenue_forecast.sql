-- What will close in the coming three months (docs/metrics.md section 17),
-- as of the as-of date: per month ahead, pipeline, source, owner and open
-- stage, the deals and amount expected to be won in the month. The open
-- pipeline's rows are per owner; the leads not created yet (new_leads)
-- are reported apart. int_forecast_expected_wins computes every forecast
-- date's forecast; fct_forecast_backtest compares the past ones with what
-- was won.
with

final as (

    select
        as_of_date,
        forecast_month,
        cast(months_ahead as {{ dbt.type_int() }}) as months_ahead,
        pipeline_id,
        pipeline_name,
        cast(forecast_source as {{ dbt.type_string() }}) as forecast_source,
        owner_id,
        stage_key,
        stage_order,
        cast(leads as {{ type_double() }}) as leads,
        cast(expected_won_deals as {{ type_double() }}) as expected_won_deals,
        cast(expected_won_amount as {{ type_double() }}) as expected_won_amount,
        {{ reporting_currency_column() }}
    from {{ ref('int_forecast_expected_wins') }}
    where not is_backtest

)

select * from final
