{#
    parse_utc_timestamp(text_column): an ISO-8601 text as a UTC timestamp
    without zone, or null when it cannot be parsed. The accepted shapes
    (the reference implementation accepts exactly these):
        YYYY-MM-DD
        YYYY-MM-DD[T|t| ]hh:mm[:ss[.fraction]][zone]
    where zone is Z, z, or +hh, +hhmm, +hh:mm (or -). A value with a zone
    is converted to UTC; one with a time and no zone is taken as UTC, and a
    date alone is local midnight in business_time_zone (docs/metrics.md
    section 1).
    Anything else (hour 24, a zone after a bare date, a space before the
    zone, another date order) is unparseable, on every engine alike.
#}
{% macro parse_utc_timestamp(text_column) -%}
    {%- set input_format = input_timestamp_format() -%}
    {%- if input_format is none -%}
        {%- set parsed = adapter.dispatch('parse_utc_timestamp', 'sales_pipeline')(text_column) -%}
    {%- else -%}
        {%- set parsed = adapter.dispatch('parse_formatted_utc_timestamp', 'sales_pipeline')(text_column, input_format) -%}
    {%- endif -%}
    {{ return(business_dates_at_local_midnight(text_column, parsed, input_format)) }}
{%- endmacro %}

{#-
    A value with no time of day is a business date (docs/metrics.md section
    1): local midnight of that day in business_time_zone, as UTC. An
    ISO-8601 value is a date alone when it is 10 characters long (its
    shape is checked); with input_timestamp_format, every value is one when
    the format has no hour. With the default UTC the SQL is unchanged.
-#}
{% macro business_dates_at_local_midnight(text_column, parsed, input_format) -%}
    {%- if business_time_zone() == 'UTC' -%}
        {{ return(parsed) }}
    {%- elif input_format is none -%}
        {{ return(
            'case when length(' ~ text_column ~ ') = 10 then ' ~ business_time_to_utc(parsed)
            ~ ' else ' ~ parsed ~ ' end'
        ) }}
    {%- elif not modules.re.search('%[HIklTRXcr]', input_format) and '%z' not in input_format -%}
        {{ return(business_time_to_utc(parsed)) }}
    {%- endif -%}
    {{ return(parsed) }}
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

{#-
    PostgreSQL and Spark: the format becomes a pattern with a group per
    field, the fields an ISO-8601 text, and that text goes through the
    ISO parser below (so a 31/02 is unparseable there too). The fields
    these engines read: %Y (4 digits), %m, %d, %H, %M, %S (1 or 2 digits),
    %f (1 to 6 digits), %z (Z, +hh, +hhmm, +hh:mm) and %%; other characters
    stand for themselves.
-#}
{% macro default__parse_formatted_utc_timestamp(text_column, input_format) -%}
    {%- set fields = {
        'Y': '([0-9]{4})', 'm': '([0-9]{1,2})', 'd': '([0-9]{1,2})', 'H': '([0-9]{1,2})',
        'M': '([0-9]{1,2})', 'S': '([0-9]{1,2})', 'f': '([0-9]{1,6})',
        'z': '([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)',
    } -%}
    {%- set pattern = [] -%}
    {%- set positions = {} -%}
    {%- set state = {'percent': false} -%}
    {%- for character in input_format -%}
        {%- if state.percent -%}
            {%- do state.update({'percent': false}) -%}
            {%- if character == '%' -%}
                {%- do pattern.append('[%]') -%}
            {%- elif character in fields and character not in positions -%}
                {%- do positions.update({character: positions | length + 1}) -%}
                {%- do pattern.append(fields[character]) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "var input_timestamp_format: %" ~ character ~ " is not read on " ~ target.type
                    ~ " (it reads %Y %m %d %H %M %S %f %z %%, each once), got '" ~ input_format ~ "'"
                ) }}
            {%- endif -%}
        {%- elif character == '%' -%}
            {%- do state.update({'percent': true}) -%}
        {%- elif character.isalnum() or character == ' ' -%}
            {%- do pattern.append(character) -%}
        {%- elif character in '\\^]' -%}
            {{ exceptions.raise_compiler_error(
                "var input_timestamp_format: the character " ~ character ~ " is not read on " ~ target.type
            ) }}
        {%- else -%}
            {%- do pattern.append('[' ~ character ~ ']') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'Y' not in positions or 'm' not in positions or 'd' not in positions -%}
        {{ exceptions.raise_compiler_error(
            "var input_timestamp_format must have %Y, %m and %d on " ~ target.type ~ ", got '" ~ input_format ~ "'"
        ) }}
    {%- endif -%}
    {%- set regex = '^' ~ pattern | join('') ~ '$' -%}
    {%- set parts = {} -%}
    {%- for field, width in [('Y', 4), ('m', 2), ('d', 2), ('H', 2), ('M', 2), ('S', 2)] -%}
        {%- if field in positions -%}
            {%- do parts.update({field: 'lpad(' ~ regex_group(text_column, regex, positions[field]) ~ ", " ~ width ~ ", '0')"}) -%}
        {%- else -%}
            {%- do parts.update({field: "'00'"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set iso_text -%}
        {{ parts.Y }} || '-' || {{ parts.m }} || '-' || {{ parts.d }} || 'T' || {{ parts.H }} || ':' || {{ parts.M }} || ':' || {{ parts.S }}
        {%- if 'f' in positions %} || '.' || {{ regex_group(text_column, regex, positions.f) }}{% endif %}
        {%- if 'z' in positions %} || {{ regex_group(text_column, regex, positions.z) }}{% endif %}
    {%- endset -%}
    case
        when {{ regex_matches(text_column, regex) }}
            then {{ adapter.dispatch('parse_utc_timestamp', 'sales_pipeline')('(' ~ iso_text ~ ')') }}
    end
{%- endmacro %}

{% macro duckdb__parse_formatted_utc_timestamp(text_column, input_format) -%}
    {%- if '%z' in input_format or '%Z' in input_format -%}
        (try_strptime({{ text_column }}, {{ sql_text(input_format) }}) at time zone 'UTC')
    {%- else -%}
        cast(try_strptime({{ text_column }}, {{ sql_text(input_format) }}) as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- The accepted shapes as one anchored pattern (see above); [0-9], not \d, which Spark's string literals would eat. -#}
{% macro iso_timestamp_pattern() -%}
    ^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$
{%- endmacro %}

{#-
    Within a text that has the accepted shape, a zone is there exactly when
    it ends in Z or a sign follows the date.
-#}
{% macro has_zone(text_column) -%}
    (upper(right({{ text_column }}, 1)) = 'Z'
        or {{ dbt.position("'+'", '(substr(' ~ text_column ~ ', 11))') }} > 0
        or {{ dbt.position("'-'", '(substr(' ~ text_column ~ ', 11))') }} > 0)
{%- endmacro %}

{#-
    Within a text that has the accepted shape, whether its date is one
    of the calendar (no 31 April, 29 February in leap years only, no year
    0): DuckDB's try_cast knows it; PostgreSQL's cast would fail the query
    and Spark's try_cast rolls some days over.
-#}
{% macro is_calendar_date(text_column) -%}
    {%- set year = 'cast(substr(' ~ text_column ~ ', 1, 4) as ' ~ dbt.type_int() ~ ')' -%}
    {%- set month = 'cast(substr(' ~ text_column ~ ', 6, 2) as ' ~ dbt.type_int() ~ ')' -%}
    {%- set day = 'cast(substr(' ~ text_column ~ ', 9, 2) as ' ~ dbt.type_int() ~ ')' -%}
    ({{ year }} >= 1
        and {{ month }} between 1 and 12
        and {{ day }} between 1 and case
            when {{ month }} = 2 then
                case when ({{ year }} % 4 = 0 and {{ year }} % 100 != 0) or {{ year }} % 400 = 0 then 29 else 28 end
            when {{ month }} in (4, 6, 9, 11) then 30
            else 31
        end)
{%- endmacro %}

{#-
    A text with the accepted shape as the engines below read it: upper
    case, at most 6 fraction digits (the reference truncates to the
    microsecond; PostgreSQL would round), and seconds before a zone (Spark
    reads 10:00:00Z but not 10:00Z).
-#}
{% macro canonical_iso_text(text_column) -%}
    {{ regex_replace(
        regex_replace('upper(' ~ text_column ~ ')', '([.][0-9]{6})[0-9]+', '\\1'),
        '^([0-9-]{10}[T ][0-9]{2}:[0-9]{2})([Z+-])', '\\1:00\\2'
    ) }}
{%- endmacro %}

{#- PostgreSQL: a cast that fails stops the query, so shape and calendar come first. -#}
{% macro default__parse_utc_timestamp(text_column) -%}
    case
        when not {{ regex_matches(text_column, iso_timestamp_pattern()) }} then null
        when not {{ is_calendar_date(text_column) }} then null
        when {{ has_zone(text_column) }}
            then cast({{ canonical_iso_text(text_column) }} as timestamp with time zone) at time zone 'UTC'
        else cast({{ canonical_iso_text(text_column) }} as timestamp)
    end
{%- endmacro %}

{#- Spark: the session's zone is UTC (profiles.yml), so a zoned text's instant reads as UTC. -#}
{% macro spark__parse_utc_timestamp(text_column) -%}
    case
        when not {{ regex_matches(text_column, iso_timestamp_pattern()) }} then null
        when not {{ is_calendar_date(text_column) }} then null
        else try_cast({{ canonical_iso_text(text_column) }} as timestamp)
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
