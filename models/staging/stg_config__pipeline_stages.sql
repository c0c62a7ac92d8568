-- The stages of the sales process, typed. Validity (unique keys and
-- orders, exactly one won stage, orders only where they belong) is checked
-- by this model's data tests, which stop the build before any mart.
with

source as (

    select * from {{ ref('pipeline_stages') }}

),

final as (

    select
        {{ clean_key('stage_key') }} as stage_key,
        {{ clean_text('stage_name') }} as stage_name,
        {{ try_cast(clean_text('stage_order'), dbt.type_int()) }} as stage_order,
        {{ clean_key('stage_type') }} as stage_type,
        {{ try_cast(clean_text('default_expected_days'), type_double()) }} as default_expected_days
    from source

)

select * from final
