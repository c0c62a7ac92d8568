{#
    clean_text(column): trimmed text, null when blank.
    clean_key(column): the same, lower-cased; used for keys and categories
    that must match across files written by different tools (stage keys,
    sources, segments).
#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro clean_key(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}
