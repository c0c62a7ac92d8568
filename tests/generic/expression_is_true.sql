{#
    expression_is_true: a boolean SQL expression over the model's columns
    holds on every row (rows where it is false or null fail), optionally
    only on rows matching where_clause.
#}
{% test expression_is_true(model, expression, where_clause=none, column_name=none) %}

select *
from {{ model }}
where
    not coalesce({{ expression }}, false)
    {%- if where_clause is not none %}
    and ({{ where_clause }})
    {%- endif %}

{% endtest %}
