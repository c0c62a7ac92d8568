{#
    parse_utc_timestamp(text_column): an ISO-8601 text as a UTC timestamp
    without zone, or null when it cannot be parsed. Values with an offset
    ('Z', '+02:00', '-0500') are converted to UTC; values without one are
    taken as UTC (spec section 1). Only texts that start like a date are
    parsed, so that engines that accept other shapes agree.
#}
{% macro parse_utc_timestamp(text_column) -%}
    {%- set input_format = input_timestamp_format() -%}
    {%- if input_format is none -%}
        {{ return(adapter.dispatch('parse_utc_timestamp', 'sales_pipeline')(text_column)) }}
    {%- else -%}
        {{ return(adapter.dispatch('parse_formatted_utc_timestamp', 'sales_pipeline')(text_column, input_format)) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Exports that write dates another way (e.g. dd/mm/yyyy): the var
    input_timestamp_format holds a strptime format ('%d/%m/%Y'); a text that
    does not match it is unparseable. With %z the offset is converted to UTC.
-#}
{% macro input_timestamp_format() -%}
    {%- set raw_value = var('input_timestamp_format', none) -%}
    {%- if raw_value is none or raw_value | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw_value | string | trim -%}
    {%- if '%' not in text or "'" in text -%}
        {{ exceptions.raise_compiler_error(
            "var input_timestamp_format must be a strptime format such as '%d/%m/%Y %H:%M' "
            ~ "(empty: ISO-8601), got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{% macro default__parse_formatted_utc_timestamp(text_column, input_format) -%}
    {{ exceptions.raise_compiler_error(
        "var input_timestamp_format is implemented for DuckDB only; on " ~ target.type
        ~ " write the exports' timestamps as ISO-8601 or add a "
        ~ target.type ~ "__parse_formatted_utc_timestamp macro"
    ) }}
{%- endmacro %}

{% macro duckdb__parse_formatted_utc_timestamp(text_column, input_format) -%}
    {%- if '%z' in input_format or '%Z' in input_format -%}
        (try_strptime({{ text_column }}, '{{ input_format }}') at time zone 'UTC')
    {%- else -%}
        cast(try_strptime({{ text_column }}, '{{ input_format }}') as timestamp)
    {%- endif -%}
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
