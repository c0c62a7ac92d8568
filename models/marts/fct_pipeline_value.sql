-- The open pipeline as of as_of_date, per open stage and in total
-- (docs/metrics.md section 10): leads not old and old leads apart, their
-- deal amounts, the amount weighted by the chance a lead in the stage is
-- won, coverage of the next month's revenue target and pipeline velocity.
-- Old leads are reported beside the healthy pipeline, never in it. Per
-- pipeline: its stages, its total and its own next target.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

win_probability as (

    -- The plan's chance a lead of the stage is won (docs/metrics.md section 5).
    select * from {{ ref('int_stage_win_probability') }}

),

open_leads as (

    -- Each lead's amount in the reporting currency, and where it is now.
    select
        amounts.current_stage_key as stage_key,
        amounts.deal_amount_reporting as deal_amount_usd,
        coalesce(pending.is_old, false) as is_old
    from {{ ref('int_lead_amounts') }} as amounts
    left join {{ ref('int_pending_leads_aged') }} as pending
        on
            amounts.lead_id = pending.lead_id
            and amounts.current_stage_key = pending.stage_key
    where amounts.current_stage_type = 'open'

),

stage_pipeline as (

    select
        conversion.as_of_date,
        conversion.pipeline_id,
        conversion.pipeline_name,
        conversion.stage_key,
        conversion.stage_order,
        -- A stage without leads joins one empty row, counted as none.
        sum(case when not open_leads.is_old then 1 else 0 end) as leads_open,
        sum(case when open_leads.is_old then 1 else 0 end) as leads_old,
        -- Empty amounts add nothing; a stage without leads holds $0.
        coalesce(sum(case when not open_leads.is_old then open_leads.deal_amount_usd end), 0) as pipeline_usd,
        coalesce(sum(case when open_leads.is_old then open_leads.deal_amount_usd end), 0) as old_pipeline_usd,
        win_probability.win_probability
    from conversion
    inner join win_probability
        on conversion.stage_key = win_probability.stage_key
    left join open_leads
        on conversion.stage_key = open_leads.stage_key
    group by
        conversion.as_of_date,
        conversion.pipeline_id,
        conversion.pipeline_name,
        conversion.stage_key,
        conversion.stage_order,
        win_probability.win_probability

),

stage_rows as (

    -- Kept as an exact decimal (to a millionth of a dollar) so the total
    -- does not depend on the order the engine adds the stages in.
    select
        *,
        cast(pipeline_usd * win_probability as decimal(38, 6)) as weighted_pipeline_usd
    from stage_pipeline

),

total_row as (

    -- The total's weighted pipeline adds the stages that have a win
    -- probability (a stage whose rate is unknown has none).
    select
        max(as_of_date) as as_of_date,
        pipeline_id,
        pipeline_name,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        cast(null as {{ dbt.type_int() }}) as stage_order,
        sum(leads_open) as leads_open,
        sum(leads_old) as leads_old,
        sum(pipeline_usd) as pipeline_usd,
        sum(old_pipeline_usd) as old_pipeline_usd,
        cast(null as {{ type_double() }}) as win_probability,
        sum(weighted_pipeline_usd) as weighted_pipeline_usd
    from stage_rows
    group by
        pipeline_id,
        pipeline_name

),

targets as (

    select * from {{ ref('int_pipeline_targets') }}

),

first_later_month as (

    select
        targets.pipeline_id,
        min(targets.target_month) as target_month
    from targets
    cross join as_of
    where targets.target_month > as_of.as_of_date
    group by targets.pipeline_id

),

next_target as (

    -- Each pipeline's first target month after the as-of date.
    select
        targets.pipeline_id,
        targets.target_month,
        targets.revenue_target_usd
    from targets
    inner join first_later_month
        on
            targets.pipeline_id = first_later_month.pipeline_id
            and targets.target_month = first_later_month.target_month

),

overall_win_rate as (

    select
        pipeline_id,
        win_rate,
        avg_won_deal_usd,
        avg_sales_cycle_days
    from {{ ref('fct_win_rates') }}
    where dimension = 'overall'

),

valued as (

    select
        pipeline.*,
        next_target.target_month,
        next_target.revenue_target_usd,
        {{ ratio('pipeline.pipeline_usd', 'next_target.revenue_target_usd') }} as coverage_ratio,
        {{ ratio('pipeline.weighted_pipeline_usd', 'next_target.revenue_target_usd') }} as weighted_coverage_ratio,
        {{ pipeline_velocity(
            'pipeline.leads_open',
            'overall_win_rate.win_rate',
            'overall_win_rate.avg_won_deal_usd',
            'overall_win_rate.avg_sales_cycle_days'
        ) }} as pipeline_velocity_usd_per_day
    from (
        select * from stage_rows
        union all
        select * from total_row
    ) as pipeline
    left join next_target
        on pipeline.pipeline_id = next_target.pipeline_id
    left join overall_win_rate
        on pipeline.pipeline_id = overall_win_rate.pipeline_id

),

final as (

    select
        as_of_date,
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_order,
        cast(leads_open as {{ dbt.type_int() }}) as leads_open,
        cast(leads_old as {{ dbt.type_int() }}) as leads_old,
        cast(pipeline_usd as {{ type_double() }}) as pipeline_usd,
        cast(old_pipeline_usd as {{ type_double() }}) as old_pipeline_usd,
        win_probability,
        cast(weighted_pipeline_usd as {{ type_double() }}) as weighted_pipeline_usd,
        target_month,
        revenue_target_usd,
        coverage_ratio,
        weighted_coverage_ratio,
        pipeline_velocity_usd_per_day,
        {{ reporting_currency_column() }}
    from valued

)

select * from final
