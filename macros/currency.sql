{#
    One reporting currency (docs/metrics.md section 15). A deal's amount is
    in its own currency; the marts' amounts are in the var
    reporting_currency, converted at the rate valid on the deal's won date
    (won deals) or on the as-of date (every other deal) by int_lead_amounts.
    The rates are config_path's exchange_rates.csv when it has rows, else
    the CRM's own dated rates (Salesforce DatedConversionRate), else none:
    then only amounts already in the reporting currency count.
#}

{#- An ISO 4217 code from a var: three letters, upper case. -#}
{% macro currency_var(name, value) -%}
    {%- set code = (value or '') | string | trim | upper -%}
    {%- if not modules.re.match('^[A-Z]{3}$', code) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a three-letter ISO 4217 currency code such as USD or EUR, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(code) }}
{%- endmacro %}

{#- The var reporting_currency (env PIPELINE_REPORTING_CURRENCY; default USD). -#}
{% macro reporting_currency() -%}
    {{ return(currency_var(
        'reporting_currency', var('reporting_currency', env_var('PIPELINE_REPORTING_CURRENCY', '')) or 'USD'
    )) }}
{%- endmacro %}

{#-
    The var crm_currency (env PIPELINE_CRM_CURRENCY; default the reporting
    currency): the currency of a CRM's amounts that name none, i.e. the
    CRM's company currency (a Salesforce org without multi-currency, a
    HubSpot deal without deal_currency_code). The generic raw_leads'
    deal_amount_usd is in USD by definition.
-#}
{% macro crm_currency() -%}
    {{ return(currency_var(
        'crm_currency', var('crm_currency', env_var('PIPELINE_CRM_CURRENCY', '')) or reporting_currency()
    )) }}
{%- endmacro %}

{#- A currency code read from data: trimmed, upper case, empty as null. -#}
{% macro currency_code(column) -%}
    upper(nullif(trim({{ column }}), ''))
{%- endmacro %}

{#- The later of two dates, an empty one meaning "no bound" (the other wins). -#}
{% macro latest_date(left, right) -%}
    case when {{ right }} is null or {{ left }} >= {{ right }} then {{ left }} else {{ right }} end
{%- endmacro %}

{#- The earlier of two end dates, an empty one meaning "open-ended". -#}
{% macro earliest_date(left, right) -%}
    case when {{ right }} is null or ({{ left }} is not null and {{ left }} <= {{ right }}) then {{ left }} else {{ right }} end
{%- endmacro %}

{#- The column that names the currency of a mart's *_usd amounts. -#}
{% macro reporting_currency_column() -%}
    cast({{ sql_text(reporting_currency()) }} as {{ dbt.type_string() }}) as reporting_currency
{%- endmacro %}

{#- The currency of a raw_leads row's amount: USD (generic), or the adapter's deal_currency or crm_currency. -#}
{% macro raw_lead_currency() -%}
    {%- if crm_setting() == 'generic' -%}
        cast('USD' as {{ dbt.type_string() }})
    {%- else -%}
        coalesce({{ currency_code('deal_currency') }}, {{ sql_text(crm_currency()) }})
    {%- endif -%}
{%- endmacro %}
