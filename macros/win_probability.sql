{#
    win_probability_ctes(conversion, flows, won, keys): the CTEs of the
    chance a lead of an open stage is won, following where deals actually
    go (docs/metrics.md section 5), ending in `win_probabilities`: keys,
    stage_key, win_probability. One chain per value of the key columns
    (none: today's, int_stage_win_probability; the as-of date: each
    forecast date's, int_forecast_win_probability).

    `conversion`: keys, stage_key, leads_completed, leads_old per open
    stage; `flows`: keys, stage_key, to_stage_key, leads_advanced_to;
    `won`: keys, stage_key per won stage.

    The chain is a walk over the stages: one step moves each stage's
    probability mass along its flows, the won stage keeps what reaches it,
    and a stage that decided no lead sends all of its mass to an unknown
    sink ('', never a stage key). Steps only climb stage_order, so after as
    many steps as there are open stages every walk has ended; squaring the
    step matrix CHAIN_SQUARINGS times takes 2^CHAIN_SQUARINGS steps, enough
    for that many open stages (stg_config__pipeline_stages checks it). Each
    product is an exact decimal, so the sums do not depend on the order an
    engine adds them in.
#}
{% macro win_probability_ctes(conversion, flows, won, keys=[]) -%}
{%- set chain_squarings = win_probability_chain_squarings() -%}
{%- set selected = [] -%}
{%- for key in keys %}{% do selected.append(key ~ ', ') %}{% endfor -%}
{%- set key_columns = selected | join('') -%}
step_0 as (

    select
        {% for key in keys %}{{ conversion }}.{{ key }}, {% endfor %}
        {{ conversion }}.stage_key as from_key,
        {{ flows }}.to_stage_key as to_key,
        {{ chain_decimal(conversion_rate(
            flows ~ '.leads_advanced_to', conversion ~ '.leads_completed', conversion ~ '.leads_old'
        )) }} as probability
    from {{ conversion }}
    inner join {{ flows }}
        on
            {% for key in keys %}{{ conversion }}.{{ key }} = {{ flows }}.{{ key }} and {% endfor %}
            {{ conversion }}.stage_key = {{ flows }}.stage_key
    where {{ conversion }}.leads_completed + {{ conversion }}.leads_old > 0
    union all
    select
        {{ key_columns }}
        stage_key as from_key,
        '' as to_key,
        {{ chain_decimal('1') }} as probability
    from {{ conversion }}
    where leads_completed + leads_old = 0
    union all
    select
        {{ key_columns }}
        stage_key as from_key,
        stage_key as to_key,
        {{ chain_decimal('1') }} as probability
    from {{ won }}
    union all
    select distinct
        {{ key_columns }}
        '' as from_key,
        '' as to_key,
        {{ chain_decimal('1') }} as probability
    from {{ conversion }}

),

{% for squaring in range(1, chain_squarings + 1) -%}
step_{{ squaring }} as (

    -- Two walks of step_{{ squaring - 1 }} one after the other.
    select
        {% for key in keys %}first_leg.{{ key }}, {% endfor %}
        first_leg.from_key,
        second_leg.to_key,
        {{ chain_decimal('sum(first_leg.probability * second_leg.probability)') }} as probability
    from step_{{ squaring - 1 }} as first_leg
    inner join step_{{ squaring - 1 }} as second_leg
        on
            {% for key in keys %}first_leg.{{ key }} = second_leg.{{ key }} and {% endfor %}
            first_leg.to_key = second_leg.from_key
    group by
        {% for key in keys %}first_leg.{{ key }}, {% endfor %}
        first_leg.from_key,
        second_leg.to_key

),

{% endfor -%}
walked as (

    select
        {% for key in keys %}walks.{{ key }}, {% endfor %}
        walks.from_key as stage_key,
        sum(case when walks.to_key = '' then 1 else 0 end) as reaches_unknown,
        sum(case when {{ won }}.stage_key is not null then walks.probability end) as to_won
    from step_{{ chain_squarings }} as walks
    left join {{ won }}
        on
            {% for key in keys %}walks.{{ key }} = {{ won }}.{{ key }} and {% endfor %}
            walks.to_key = {{ won }}.stage_key
    group by
        {% for key in keys %}walks.{{ key }}, {% endfor %}
        walks.from_key

),

win_probabilities as (

    -- Null when the walk can end in the unknown sink.
    select
        {% for key in keys %}{{ conversion }}.{{ key }}, {% endfor %}
        {{ conversion }}.stage_key,
        case
            when coalesce(walked.reaches_unknown, 0) = 0
                then cast(coalesce(walked.to_won, 0) as {{ type_double() }})
        end as win_probability
    from {{ conversion }}
    left join walked
        on
            {% for key in keys %}{{ conversion }}.{{ key }} = walked.{{ key }} and {% endfor %}
            {{ conversion }}.stage_key = walked.stage_key

)
{%- endmacro %}
