{#
    Regular expressions, which every engine spells its own way. Patterns
    use [0-9] and [.] rather than backslash escapes: Spark's string
    literals would consume the backslash.

    regex_matches(text, pattern): whether pattern (anchor it with ^...$)
    matches text.
    regex_group(text, pattern, index): the index-th group of the match
    (call it where the pattern matches).
    regex_replace(text, pattern, replacement): every match replaced;
    \1, \2 in the replacement are the groups.
#}
{% macro regex_matches(text, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'sales_pipeline')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(text, pattern) -%}
    ({{ text }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_matches(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(text, pattern) -%}
    ({{ text }} rlike '{{ pattern }}')
{%- endmacro %}

{% macro regex_group(text, pattern, index) -%}
    {{ return(adapter.dispatch('regex_group', 'sales_pipeline')(text, pattern, index)) }}
{%- endmacro %}

{% macro default__regex_group(text, pattern, index) -%}
    (regexp_match({{ text }}, '{{ pattern }}'))[{{ index }}]
{%- endmacro %}

{% macro duckdb__regex_group(text, pattern, index) -%}
    regexp_extract({{ text }}, '{{ pattern }}', {{ index }})
{%- endmacro %}

{% macro spark__regex_group(text, pattern, index) -%}
    regexp_extract({{ text }}, '{{ pattern }}', {{ index }})
{%- endmacro %}

{% macro regex_replace(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace', 'sales_pipeline')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro duckdb__regex_replace(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- Java's replacement syntax: $1 for a group. -#}
{% macro spark__regex_replace(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ modules.re.sub("\\\\([0-9])", "$\\1", replacement) }}')
{%- endmacro %}
