-- One row per lead x dimension the marts are cut by (owner_id, lead_source,
-- segment), with the lead's value; null when the lead has none. A view: an
-- unpivot of int_lead_outcomes, read by the per-dimension marts.
{{ config(materialized='view') }}

with

outcomes as (

    select * from {{ ref('int_lead_outcomes') }}

),

final as (

    {% for dimension in lead_dimensions() -%}
        select
            lead_id,
            '{{ dimension }}' as dimension,
            {{ dimension }} as dimension_value
        from outcomes
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
