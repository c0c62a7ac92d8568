-- Industry benchmark conversion rate per stage, typed. A rate that is not
-- between 0 and 1, or a repeated stage, stops the build here with a
-- message naming the row (macros/config_checks.sql).
{%- set typed_sql %}
    select
        {{ clean_key('stage_key') }} as stage_key,
        {{ try_cast(clean_text('benchmark_conversion_rate'), type_double()) }} as benchmark_conversion_rate,
        {{ clean_text('benchmark_source') }} as benchmark_source,
        {{ clean_text('benchmark_conversion_rate') }} as benchmark_conversion_rate_text
    from {{ config_input('stage_benchmarks') }}
{%- endset %}
{{ stop_on_config_errors('stage_benchmarks', stage_benchmarks_config_problems(typed_sql)) }}

with

typed as (

    {{ typed_sql }}

),

final as (

    select
        stage_key,
        benchmark_conversion_rate,
        benchmark_source
    from typed

)

select * from final
