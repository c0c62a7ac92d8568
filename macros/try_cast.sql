{#
    try_cast(expression, type): a text as type, or null when it is not
    one. The texts read, on every engine: whole numbers ([+-] and digits),
    numbers (decimal or with an exponent) and dates written YYYY-MM-DD.
    dbt.safe_cast is a plain cast on DuckDB and PostgreSQL, which fails the
    whole query on one bad value.
#}
{% macro try_cast(expression, type) -%}
    {{ return(adapter.dispatch('try_cast', 'sales_pipeline')(expression, type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, type) -%}
    {{ dbt.safe_cast(expression, type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{#- PostgreSQL has no try_cast: the text's shape and size are checked first. -#}
{% macro postgres__try_cast(expression, type) -%}
    {%- set kind = text_kind(type) -%}
    case when {{ regex_matches(expression, text_kind_pattern(kind)) }} then
        {%- if kind == 'number' %}
        {#- within what the type holds: numeric(28,6) holds under 10^22 #}
        case when abs(cast({{ expression }} as numeric)) < {{ '1e22' if type.startswith('numeric') else '1e300' }}
            then cast({{ expression }} as {{ type }}) end
        {%- elif kind == 'date' %}
        case when {{ is_calendar_date(expression) }} then cast({{ expression }} as date) end
        {%- else %}
        cast({{ expression }} as {{ type }})
        {%- endif %}
    end
{%- endmacro %}

{#- Spark's try_cast reads more (a date with a time after it, spaces): the shape first. -#}
{% macro spark__try_cast(expression, type) -%}
    {%- set kind = text_kind(type) -%}
    case when {{ regex_matches(expression, text_kind_pattern(kind)) }} then
        {%- if kind == 'date' %}
        case when {{ is_calendar_date(expression) }} then try_cast({{ expression }} as date) end
        {%- else %}
        try_cast({{ expression }} as {{ type }})
        {%- endif %}
    end
{%- endmacro %}

{#- whole, number or date: which texts a type is read from. -#}
{% macro text_kind(type) -%}
    {%- set name = type | lower | trim -%}
    {%- if name in ('int', 'integer', 'bigint', 'smallint') -%}
        {{ return('whole') }}
    {%- elif name == 'date' -%}
        {{ return('date') }}
    {%- elif name.startswith('numeric') or name.startswith('decimal') or name.startswith('double') or name == 'float8' -%}
        {{ return('number') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("try_cast does not read the type " ~ type ~ " on " ~ target.type) }}
{%- endmacro %}

{% macro text_kind_pattern(kind) -%}
    {{- {
        'whole': '^[+-]?[0-9]{1,9}$',
        'number': '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$',
        'date': '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    }[kind] -}}
{%- endmacro %}
