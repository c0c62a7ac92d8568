{#-
    text_contains(text, part): whether part occurs in text, on every engine
    (strpos on DuckDB and PostgreSQL, instr on Spark); null when either is.
-#}
{% macro text_contains(text, part) -%}
    {{ return(adapter.dispatch('text_contains', 'sales_pipeline')(text, part)) }}
{%- endmacro %}

{% macro default__text_contains(text, part) -%}
    strpos({{ text }}, {{ part }}) > 0
{%- endmacro %}

{% macro spark__text_contains(text, part) -%}
    instr({{ text }}, {{ part }}) > 0
{%- endmacro %}
