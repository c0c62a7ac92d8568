{#
    parse_utc_timestamp(text_column): an ISO-8601 text as a UTC timestamp
    without zone, or null when it cannot be parsed. Values with an offset
    ('Z', '+02:00', '-0500') are converted to UTC; values without one are
    taken as UTC (spec section 1). Only texts that start like a date are
    parsed, so that engines that accept other shapes agree.
#}
{% macro parse_utc_timestamp(text_column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'sales_pipeline')(text_column)) }}
{%- endmacro %}

{#- PostgreSQL flavour; other engines add their own <adapter>__ version. -#}
{% macro default__parse_utc_timestamp(text_column) -%}
    case
        when {{ text_column }} !~ '^\d{4}-\d{2}-\d{2}' then null
        when {{ text_column }} ~ '^\d{4}-\d{2}-\d{2}[T ].*(Z|z|[+-]\d{2}(:?\d{2})?)$'
            then cast({{ text_column }} as timestamp with time zone) at time zone 'UTC'
        else cast({{ text_column }} as timestamp)
    end
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(text_column) -%}
    case
        when not regexp_matches({{ text_column }}, '^\d{4}-\d{2}-\d{2}') then null
        when regexp_matches({{ text_column }}, '(Z|z|[+-]\d{2}(:?\d{2})?)$')
            and regexp_matches({{ text_column }}, '^\d{4}-\d{2}-\d{2}[T ]')
            then try_cast({{ text_column }} as timestamptz) at time zone 'UTC'
        else try_cast({{ text_column }} as timestamp)
    end
{%- endmacro %}
