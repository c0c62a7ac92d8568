{#
    ratio(numerator, denominator): numerator / denominator as a double, null
    when the denominator is 0 or null. The one division behind every rate
    and share the marts publish.
#}
{% macro ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}
