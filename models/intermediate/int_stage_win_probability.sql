-- One row per open stage: win_probability, the chance a lead of the stage's
-- cohort is won, following where deals actually go (docs/metrics.md
-- section 5): Σ_T advanced_to(S, T) / (leads_completed(S) + leads_old(S))
-- × win_probability(T), with win_probability(won) = 1. Null when S decided
-- no lead, or when its leads flow into a stage whose chance is unknown.
-- The one home of today's number: fct_pipeline_plan and fct_pipeline_value
-- read it; the walk is win_probability_ctes (macros/win_probability.sql),
-- which int_forecast_win_probability runs for each forecast date.
with

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

flows as (

    select * from {{ ref('int_stage_flows') }}

),

won as (

    select stage_key from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'won'

),

{{ win_probability_ctes('conversion', 'flows', 'won') }},

final as (

    select
        conversion.as_of_date,
        conversion.stage_key,
        conversion.stage_order,
        win_probabilities.win_probability
    from conversion
    inner join win_probabilities
        on conversion.stage_key = win_probabilities.stage_key

)

select * from final
