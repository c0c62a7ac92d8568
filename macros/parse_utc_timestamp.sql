{#
    parse_utc_timestamp(text_column): an ISO-8601 text as a UTC timestamp
    without zone, or null when it cannot be parsed. The accepted shapes
    (the reference implementation accepts exactly these):
        YYYY-MM-DD
        YYYY-MM-DD[T|t| ]hh:mm[:ss[.fraction]][zone]
    where zone is Z, z, or +hh, +hhmm, +hh:mm (or -). A value with a zone
    is converted to UTC; one without is taken as UTC (docs/metrics.md section 1).
    Anything else (hour 24, a zone after a bare date, a space before the
    zone, another date order) is unparseable, on every engine alike.
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

{#- The accepted shapes as one anchored pattern (see above). -#}
{% macro iso_timestamp_pattern() -%}
    ^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$
{%- endmacro %}

{#-
    Within a text that has the accepted shape, a zone is there exactly when
    it ends in Z or a sign follows the date.
-#}
{% macro has_zone(text_column) -%}
    (upper(right({{ text_column }}, 1)) = 'Z'
        or strpos(substr({{ text_column }}, 11), '+') > 0
        or strpos(substr({{ text_column }}, 11), '-') > 0)
{%- endmacro %}

{#- PostgreSQL flavour; other engines add their own <adapter>__ version. -#}
{% macro default__parse_utc_timestamp(text_column) -%}
    case
        when {{ text_column }} !~ '{{ iso_timestamp_pattern() }}' then null
        when {{ has_zone(text_column) }}
            then cast(upper({{ text_column }}) as timestamp with time zone) at time zone 'UTC'
        else cast(upper({{ text_column }}) as timestamp)
    end
{%- endmacro %}

{#- upper(): DuckDB reads 'T' and 'Z' but not 't' and 'z'. -#}
{% macro duckdb__parse_utc_timestamp(text_column) -%}
    case
        when not regexp_full_match({{ text_column }}, '{{ iso_timestamp_pattern() }}') then null
        when {{ has_zone(text_column) }}
            then try_cast(upper({{ text_column }}) as timestamptz) at time zone 'UTC'
        else try_cast(upper({{ text_column }}) as timestamp)
    end
{%- endmacro %}
