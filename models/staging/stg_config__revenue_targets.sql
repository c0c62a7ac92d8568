-- Monthly revenue goals, typed. An empty avg_deal_size_usd means "use the
-- observed average won deal" (spec section 5).
with

source as (

    select * from {{ ref('revenue_targets') }}

),

final as (

    select
        {{ try_cast(clean_text('target_month'), 'date') }} as target_month,
        {{ try_cast(clean_text('revenue_target_usd'), type_double()) }} as revenue_target_usd,
        {{ try_cast(clean_text('avg_deal_size_usd'), type_double()) }} as avg_deal_size_usd
    from source

)

select * from final
