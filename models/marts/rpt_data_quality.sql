-- Where every raw row went, per raw table: accepted (one row per distinct
-- row), duplicate (the extra copies of an accepted row, collapsed), or
-- rejected with a reason (every raw copy of a quarantined row).
with

leads as (

    select
        'raw_leads' as table_name,
        rejection_reason,
        source_row_count
    from {{ ref('int_leads_checked') }}

),

transitions as (

    select
        'raw_lead_transitions' as table_name,
        rejection_reason,
        source_row_count
    from {{ ref('int_lead_transitions_checked') }}

),

checked as (

    select * from leads
    union all
    select * from transitions

),

outcomes as (

    select
        table_name,
        'accepted' as outcome,
        cast(null as {{ dbt.type_string() }}) as reason,
        count(*) as row_count
    from checked
    where rejection_reason is null
    group by table_name

    union all

    select
        table_name,
        'duplicate' as outcome,
        cast(null as {{ dbt.type_string() }}) as reason,
        sum(source_row_count - 1) as row_count
    from checked
    where rejection_reason is null
    group by table_name

    union all

    select
        table_name,
        'rejected' as outcome,
        rejection_reason as reason,
        sum(source_row_count) as row_count
    from checked
    where rejection_reason is not null
    group by
        table_name,
        rejection_reason

),

final as (

    select
        table_name,
        outcome,
        reason,
        cast(row_count as {{ dbt.type_bigint() }}) as row_count
    from outcomes

)

select * from final
