-- Industry benchmark conversion rate per stage, typed.
with

source as (

    select * from {{ ref('stage_benchmarks') }}

),

final as (

    select
        {{ clean_key('stage_key') }} as stage_key,
        {{ try_cast(clean_text('benchmark_conversion_rate'), type_double()) }} as benchmark_conversion_rate,
        {{ clean_text('benchmark_source') }} as benchmark_source
    from source

)

select * from final
