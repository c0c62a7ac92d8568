-- One row per open stage: win_probability, the chance a lead of the stage's
-- cohort is won, following where deals actually go (docs/metrics.md
-- section 5): Σ_T advanced_to(S, T) / (leads_completed(S) + leads_old(S))
-- × win_probability(T), with win_probability(won) = 1. Null when S decided
-- no lead, or when its leads flow into a stage whose chance is unknown.
-- The one home of the number: fct_pipeline_plan and fct_pipeline_value
-- read it.
--
-- The chain is a walk over the stages: one step moves each stage's
-- probability mass along its flows, the won stage keeps what reaches it,
-- and a stage that decided no lead sends all of its mass to an unknown
-- sink ('', never a stage key). Steps only climb stage_order, so after as
-- many steps as there are open stages every walk has ended; squaring the
-- step matrix CHAIN_SQUARINGS times takes 2^CHAIN_SQUARINGS steps, enough
-- for that many open stages (stg_config__pipeline_stages checks it). Each
-- product is an exact decimal, so the sums do not depend on the order an
-- engine adds them in. (The squarings' CTEs stand at the top level, not
-- indented inside their Jinja loop:)
-- sqlfluff:indentation:template_blocks_indent:False
{%- set chain_squarings = win_probability_chain_squarings() %}

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

step_0 as (

    select
        conversion.stage_key as from_key,
        flows.to_stage_key as to_key,
        {{ chain_decimal(conversion_rate(
            'flows.leads_advanced_to', 'conversion.leads_completed', 'conversion.leads_old'
        )) }} as probability
    from conversion
    inner join flows
        on conversion.stage_key = flows.stage_key
    where conversion.leads_completed + conversion.leads_old > 0
    union all
    select
        stage_key as from_key,
        '' as to_key,
        {{ chain_decimal('1') }} as probability
    from conversion
    where conversion.leads_completed + conversion.leads_old = 0
    union all
    select
        stage_key as from_key,
        stage_key as to_key,
        {{ chain_decimal('1') }} as probability
    from won
    union all
    select
        '' as from_key,
        '' as to_key,
        {{ chain_decimal('1') }} as probability

),

{% for squaring in range(1, chain_squarings + 1) %}
step_{{ squaring }} as (

    -- Two walks of step_{{ squaring - 1 }} one after the other.
    select
        first_leg.from_key,
        second_leg.to_key,
        {{ chain_decimal('sum(first_leg.probability * second_leg.probability)') }} as probability
    from step_{{ squaring - 1 }} as first_leg
    inner join step_{{ squaring - 1 }} as second_leg
        on first_leg.to_key = second_leg.from_key
    group by first_leg.from_key, second_leg.to_key

),

{% endfor %}
walked as (

    select
        walks.from_key as stage_key,
        sum(case when walks.to_key = '' then 1 else 0 end) as reaches_unknown,
        sum(case when won.stage_key is not null then walks.probability end) as to_won
    from step_{{ chain_squarings }} as walks
    left join won
        on walks.to_key = won.stage_key
    group by walks.from_key

),

final as (

    select
        conversion.as_of_date,
        conversion.stage_key,
        conversion.stage_order,
        case
            when coalesce(walked.reaches_unknown, 0) = 0
                then cast(coalesce(walked.to_won, 0) as {{ type_double() }})
        end as win_probability
    from conversion
    left join walked
        on conversion.stage_key = walked.stage_key

)

select * from final
