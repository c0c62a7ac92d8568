-- The forecast proves itself (docs/metrics.md section 17): per past
-- forecast date (a month's last day in the history) whose month ahead has
-- ended by the as-of date, per pipeline and method, the deals and amount
-- forecast for the month against those won in it. Methods: the model
-- (per open stage, its open pipeline against the wins of the leads in the
-- stage then; per pipeline, everything); the weighted pipeline then
-- (win probability x amount of the leads not old, no timing); and the
-- last three months' mean wins.
with

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

all_windows as (

    select * from {{ ref('int_forecast_windows') }}

),

windows as (

    -- The past forecast dates' months that have ended by the as-of date.
    select past.*
    from all_windows as past
    inner join all_windows as build
        on build.months_ahead = 1 and not build.is_backtest
    where past.is_backtest and past.window_end_at <= build.as_of_at

),

open_leads as (

    select * from {{ ref('int_forecast_open_leads') }}

),

expected as (

    select * from {{ ref('int_forecast_expected_wins') }}

),

won_leads as (

    -- Each lead once per month it was won in (a won visit began then).
    select distinct
        won_visits.lead_id,
        stages.pipeline_id,
        cast({{ dbt.date_trunc('month', utc_to_business_time('won_visits.entered_at')) }} as date) as won_month
    from {{ ref('int_lead_stage_visits_collapsed') }} as won_visits
    inner join stages
        on won_visits.stage_key = stages.stage_key
    where won_visits.stage_type = 'won'

),

monthly_wins as (

    select
        won_leads.pipeline_id,
        won_leads.won_month,
        count(*) as won_deals,
        coalesce({{ order_free_sum('amounts.deal_amount_reporting') }}, 0) as won_amount
    from won_leads
    left join {{ ref('int_lead_amounts') }} as amounts
        on won_leads.lead_id = amounts.lead_id
    group by won_leads.pipeline_id, won_leads.won_month

),

pipelines as (

    select distinct
        pipeline_id,
        pipeline_name
    from stages

),

pipeline_months as (

    select
        windows.*,
        pipelines.pipeline_id,
        cast({{ dbt.dateadd('month', '1 - windows.months_ahead', 'windows.forecast_month') }} as date) as first_month
    from windows
    cross join pipelines

),

model_by_stage as (

    select
        windows.as_of_date,
        windows.months_ahead,
        stages.pipeline_id,
        stages.stage_key,
        coalesce({{ order_free_sum('expected.expected_won_deals') }}, 0) as forecast_won_deals,
        coalesce({{ order_free_sum('expected.expected_won_amount') }}, 0) as forecast_won_amount
    from windows
    cross join stages
    left join expected
        on
            windows.as_of_date = expected.as_of_date
            and windows.months_ahead = expected.months_ahead
            and stages.stage_key = expected.stage_key
            and expected.forecast_source = 'open_pipeline'
    where stages.stage_type = 'open'
    group by windows.as_of_date, windows.months_ahead, stages.pipeline_id, stages.stage_key

),

actual_by_stage as (

    select
        open_leads.as_of_date,
        windows.months_ahead,
        open_leads.stage_key,
        count(*) as actual_won_deals,
        coalesce({{ order_free_sum('open_leads.deal_amount_reporting') }}, 0) as actual_won_amount
    from open_leads
    inner join windows
        on open_leads.as_of_date = windows.as_of_date
    inner join won_leads
        on open_leads.lead_id = won_leads.lead_id and windows.forecast_month = won_leads.won_month
    group by open_leads.as_of_date, windows.months_ahead, open_leads.stage_key

),

pipeline_forecasts as (

    select
        pipeline_months.as_of_date,
        pipeline_months.months_ahead,
        pipeline_months.pipeline_id,
        'model' as forecast_method,
        coalesce({{ order_free_sum('expected.expected_won_deals') }}, 0) as forecast_won_deals,
        coalesce({{ order_free_sum('expected.expected_won_amount') }}, 0) as forecast_won_amount
    from pipeline_months
    left join expected
        on
            pipeline_months.as_of_date = expected.as_of_date
            and pipeline_months.months_ahead = expected.months_ahead
            and pipeline_months.pipeline_id = expected.pipeline_id
    group by pipeline_months.as_of_date, pipeline_months.months_ahead, pipeline_months.pipeline_id
    union all
    select
        pipeline_months.as_of_date,
        pipeline_months.months_ahead,
        pipeline_months.pipeline_id,
        'weighted_pipeline' as forecast_method,
        coalesce({{ order_free_sum('win_probability.win_probability') }}, 0) as forecast_won_deals,
        coalesce(
            {{ order_free_sum('win_probability.win_probability * open_leads.deal_amount_reporting') }}, 0
        ) as forecast_won_amount
    from pipeline_months
    left join open_leads
        on
            pipeline_months.as_of_date = open_leads.as_of_date
            and pipeline_months.pipeline_id = open_leads.pipeline_id
            and not open_leads.is_old
    left join {{ ref('int_forecast_win_probability') }} as win_probability
        on
            open_leads.as_of_date = win_probability.as_of_date
            and open_leads.stage_key = win_probability.stage_key
    group by pipeline_months.as_of_date, pipeline_months.months_ahead, pipeline_months.pipeline_id
    union all
    select
        pipeline_months.as_of_date,
        pipeline_months.months_ahead,
        pipeline_months.pipeline_id,
        'last_3_months_average' as forecast_method,
        -- A double divisor: Spark divides a count by 3.0 as a decimal of 6 places.
        cast(coalesce(sum(monthly_wins.won_deals), 0) as {{ type_double() }}) / 3 as forecast_won_deals,
        coalesce({{ order_free_sum('monthly_wins.won_amount') }}, 0) / 3 as forecast_won_amount
    from pipeline_months
    left join monthly_wins
        on
            pipeline_months.pipeline_id = monthly_wins.pipeline_id
            and pipeline_months.first_month > monthly_wins.won_month
            and cast({{ dbt.dateadd('month', -3, 'pipeline_months.first_month') }} as date) <= monthly_wins.won_month
    group by pipeline_months.as_of_date, pipeline_months.months_ahead, pipeline_months.pipeline_id

),

compared as (

    select
        model_by_stage.as_of_date,
        model_by_stage.months_ahead,
        model_by_stage.pipeline_id,
        'model' as forecast_method,
        model_by_stage.stage_key,
        model_by_stage.forecast_won_deals,
        coalesce(actual_by_stage.actual_won_deals, 0) as actual_won_deals,
        model_by_stage.forecast_won_amount,
        coalesce(actual_by_stage.actual_won_amount, 0) as actual_won_amount
    from model_by_stage
    left join actual_by_stage
        on
            model_by_stage.as_of_date = actual_by_stage.as_of_date
            and model_by_stage.months_ahead = actual_by_stage.months_ahead
            and model_by_stage.stage_key = actual_by_stage.stage_key
    union all
    select
        pipeline_forecasts.as_of_date,
        pipeline_forecasts.months_ahead,
        pipeline_forecasts.pipeline_id,
        pipeline_forecasts.forecast_method,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        pipeline_forecasts.forecast_won_deals,
        coalesce(monthly_wins.won_deals, 0) as actual_won_deals,
        pipeline_forecasts.forecast_won_amount,
        coalesce(monthly_wins.won_amount, 0) as actual_won_amount
    from pipeline_forecasts
    inner join windows
        on
            pipeline_forecasts.as_of_date = windows.as_of_date
            and pipeline_forecasts.months_ahead = windows.months_ahead
    left join monthly_wins
        on
            pipeline_forecasts.pipeline_id = monthly_wins.pipeline_id
            and windows.forecast_month = monthly_wins.won_month

),

final as (

    select
        compared.as_of_date,
        windows.forecast_month,
        cast(compared.months_ahead as {{ dbt.type_int() }}) as months_ahead,
        compared.pipeline_id,
        pipelines.pipeline_name,
        cast(compared.forecast_method as {{ dbt.type_string() }}) as forecast_method,
        compared.stage_key,
        cast(compared.forecast_won_deals as {{ type_double() }}) as forecast_won_deals,
        cast(compared.actual_won_deals as {{ dbt.type_bigint() }}) as actual_won_deals,
        cast(compared.forecast_won_amount as {{ type_double() }}) as forecast_won_amount,
        cast(compared.actual_won_amount as {{ type_double() }}) as actual_won_amount,
        cast(compared.forecast_won_amount - compared.actual_won_amount as {{ type_double() }}) as error_amount,
        cast(
            case
                when compared.actual_won_amount > 0
                    then abs(compared.forecast_won_amount - compared.actual_won_amount) / compared.actual_won_amount
            end as {{ type_double() }}
        ) as absolute_percentage_error,
        {{ reporting_currency_column() }}
    from compared
    inner join windows
        on compared.as_of_date = windows.as_of_date and compared.months_ahead = windows.months_ahead
    inner join pipelines
        on compared.pipeline_id = pipelines.pipeline_id

)

select * from final
