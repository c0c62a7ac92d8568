-- Dated exchange rates to the reporting currency, typed: one row per
-- currency and the date its rate starts to apply (config_path's
-- exchange_rates.csv; none without it). A currency that is not three
-- letters, a rate not above 0, a valid_from that is not a date, a repeated
-- (currency, valid_from) or a rate for the reporting currency itself stops
-- the build here with a message naming the row (macros/config_checks.sql).
{%- set file_rates = config_input('exchange_rates') %}
{%- set typed_sql %}
    {%- if file_rates is none %}
    select
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ type_double() }}) as rate_to_reporting,
        cast(null as date) as valid_from,
        cast(null as {{ dbt.type_string() }}) as currency_text,
        cast(null as {{ dbt.type_string() }}) as rate_to_reporting_text,
        cast(null as {{ dbt.type_string() }}) as valid_from_text
    where 1 = 0
    {%- else %}
    select
        {{ currency_code(clean_text('currency')) }} as currency,
        {{ try_cast(clean_text('rate_to_reporting'), type_double()) }} as rate_to_reporting,
        {{ try_cast(clean_text('valid_from'), 'date') }} as valid_from,
        {{ clean_text('currency') }} as currency_text,
        {{ clean_text('rate_to_reporting') }} as rate_to_reporting_text,
        {{ clean_text('valid_from') }} as valid_from_text
    from {{ file_rates }}
    {%- endif %}
{%- endset %}
{{ stop_on_config_errors('exchange_rates', exchange_rates_config_problems(typed_sql)) }}

with

typed as (

    {{ typed_sql }}

),

final as (

    select
        currency,
        rate_to_reporting,
        valid_from
    from typed

)

select * from final
