-- The dated rates every amount converts at (docs/metrics.md section 15):
-- one row per currency and period [valid_from, valid_to), an empty
-- valid_to meaning "until further notice". config_path's
-- exchange_rates.csv when it has rows (each rate until the currency's
-- next), else the CRM's own (Salesforce's DatedConversionRate), else none.
with

file_rates as (

    select
        currency,
        valid_from,
        lead(valid_from) over (partition by currency order by valid_from) as valid_to,
        rate_to_reporting
    from {{ ref('stg_config__exchange_rates') }}

),

{% if crm_setting() == 'salesforce' -%}
crm_rates as (

    select
        currency,
        valid_from,
        valid_to,
        rate_to_reporting
    from {{ ref('base_salesforce__exchange_rates') }}

),

{% endif -%}
final as (

    select * from file_rates
    {%- if crm_setting() == 'salesforce' %}
    union all
    select * from crm_rates
    where not exists (select 1 from file_rates)
    {%- endif %}

)

select * from final
