{#
    whole_numbers(digits): a query of one column, n, holding 0 through
    10^digits - 1, from a cross join of digits, so that it runs the same
    on every engine (the time spine's days, the history's days).
#}
{% macro whole_numbers(digits) -%}
    {%- set digit_values -%}
        (
            select 0 as digit union all select 1 union all select 2 union all select 3
            union all select 4 union all select 5 union all select 6 union all select 7
            union all select 8 union all select 9
        )
    {%- endset -%}
    select
        {% for place in range(digits) -%}
            {{ ' + ' if not loop.first }}{{ 10 ** place }} * place_{{ place }}.digit
        {%- endfor %} as n
    from
        {% for place in range(digits) -%}
            {{ 'cross join ' if not loop.first }}{{ digit_values }} as place_{{ place }}
        {% endfor %}
{%- endmacro %}
