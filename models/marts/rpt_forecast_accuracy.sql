-- How well each forecast method did (docs/metrics.md section 17): per
-- pipeline, method and month ahead, over the backtest's pipeline rows with
-- an actual won amount, the mean absolute percentage error of the won
-- amount and the bias (total error / total actual; positive: forecasts too
-- much).
with

compared as (

    -- The pipeline rows; a month with nothing won has no percentage error.
    select
        *,
        case when actual_won_amount > 0 then 1 else 0 end as is_compared
    from {{ ref('fct_forecast_backtest') }}
    where stage_key is null

),

final as (

    select
        pipeline_id,
        pipeline_name,
        forecast_method,
        months_ahead,
        cast(sum(is_compared) as {{ dbt.type_int() }}) as months_compared,
        {{ order_free_sum('absolute_percentage_error') }} / count(absolute_percentage_error)
            as mean_absolute_percentage_error,
        {{ order_free_sum('case when is_compared = 1 then error_amount end') }}
        / {{ order_free_sum('case when is_compared = 1 then actual_won_amount end') }} as bias,
        {{ reporting_currency_column() }}
    from compared
    group by pipeline_id, pipeline_name, forecast_method, months_ahead

)

select * from final
