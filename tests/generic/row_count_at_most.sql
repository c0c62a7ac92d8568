{#
    row_count_at_most: the model has at most max_rows rows (used with
    severity warn on the quarantine tables: any rejected row is reported).
#}
{% test row_count_at_most(model, max_rows) %}

select count(*) as row_count
from {{ model }}
having count(*) > {{ max_rows }}

{% endtest %}
