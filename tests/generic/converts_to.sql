{#
    converts_to: every non-blank text in the column converts to the type
    (a config seed is loaded as text and typed in staging; a value that does
    not convert would otherwise become an empty value there). Fails with
    the rows whose value does not convert.
#}
{% test converts_to(model, column_name, type) %}

select {{ column_name }}
from {{ model }}
where
    {{ clean_text(column_name) }} is not null
    and {{ try_cast(clean_text(column_name), type) }} is null

{% endtest %}
