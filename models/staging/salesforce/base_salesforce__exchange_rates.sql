-- Salesforce's dated exchange rates (advanced currency management) as
-- rates to the reporting currency: one row per currency and period
-- [valid_from, valid_to). DatedConversionRate gives, per currency and
-- period, how many units of it make one unit of the org's corporate
-- currency (var crm_currency, one unit of itself from 1900 on); a
-- currency's rate to the reporting currency is the reporting currency's
-- conversion rate over its own, on the days both periods cover. An org
-- without dated rates (no such table landed) has none here.
{%- set iso_code = crm_column({'fivetran': 'iso_code', 'airbyte': 'isocode'}) %}
{%- set conversion_rate = crm_column({'fivetran': 'conversion_rate', 'airbyte': 'conversionrate'}) %}
{%- set start_date = crm_column({'fivetran': 'start_date', 'airbyte': 'startdate'}) %}
{%- set next_start_date = crm_column({'fivetran': 'next_start_date', 'airbyte': 'nextstartdate'}) %}
{%- set reporting = sql_text(reporting_currency()) %}

with

source as (

    {{ crm_optional_table(
        'salesforce', 'dated_conversion_rate', [iso_code, conversion_rate, start_date, next_start_date]
    ) }}

),

renamed as (

    select
        {{ currency_code(crm_text(iso_code)) }} as currency,
        {{ try_cast(crm_text(conversion_rate), type_double()) }} as units_per_corporate,
        cast({{ start_date }} as date) as valid_from,
        cast({{ next_start_date }} as date) as valid_to
    from source

),

usable as (

    -- The corporate currency is one unit of itself, always (whether or
    -- not the org lists it).
    select * from renamed
    where
        currency is not null and currency <> {{ sql_text(crm_currency()) }}
        and units_per_corporate > 0 and valid_from is not null
    union all
    select
        {{ sql_text(crm_currency()) }} as currency,
        1.0 as units_per_corporate,
        cast('1900-01-01' as date) as valid_from,
        cast(null as date) as valid_to

),

reporting_rates as (

    select
        valid_from,
        valid_to,
        units_per_corporate
    from usable
    where currency = {{ reporting }}

),

final as (

    select
        currencies.currency,
        {{ latest_date('currencies.valid_from', 'reporting_rates.valid_from') }} as valid_from,
        {{ earliest_date('currencies.valid_to', 'reporting_rates.valid_to') }} as valid_to,
        cast(reporting_rates.units_per_corporate / currencies.units_per_corporate as {{ type_double() }})
            as rate_to_reporting
    from usable as currencies
    inner join reporting_rates
        on
            (reporting_rates.valid_to is null or currencies.valid_from < reporting_rates.valid_to)
            and (currencies.valid_to is null or currencies.valid_to > reporting_rates.valid_from)
    where currencies.currency <> {{ reporting }}

)

select * from final
