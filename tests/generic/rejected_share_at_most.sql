{#
    rejected_share_at_most(model, limit_var): on rpt_data_quality, a row per
    raw table whose quarantined share of raw rows is above the share the
    var limit_var sets (validated: a number between 0 and 1). Used twice:
    warn_rejected_share warns, max_rejected_share fails the build.
#}
{% test rejected_share_at_most(model, limit_var) %}

with

shares as (

    select
        table_name,
        sum(case when outcome = 'rejected' then row_count else 0 end) as rejected_rows,
        sum(row_count) as raw_rows,
        {{ ratio("sum(case when outcome = 'rejected' then row_count else 0 end)", 'sum(row_count)') }}
            as rejected_share
    from {{ model }}
    group by table_name

)

select *
from shares
where rejected_share > {{ pipeline_var_fraction(limit_var) }}

{% endtest %}
