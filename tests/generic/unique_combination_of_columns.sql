{#
    unique_combination_of_columns: the listed columns together identify one
    row (a composite key). Fails with each repeated combination.

    With latest_leads_only, on a lead-level model refreshed by lead (see
    macros/incremental_refresh.sql), only the leads the latest run wrote are
    checked: a refresh can repeat a key only among the rows of the leads it
    replaced, and the rest were checked when written. After a full build
    that is every row.
#}
{% test unique_combination_of_columns(model, combination_of_columns, latest_leads_only=false) %}

with

checked_rows as (

    select * from {{ model }}
    {%- if latest_leads_only %}
    where lead_id in (
        select lead_id from {{ model }}
        where loaded_at = (select max(loaded_at) from {{ model }})
    )
    {%- endif %}

)

select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from checked_rows
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
