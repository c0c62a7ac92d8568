-- Where every raw row went, per raw table: accepted (one row per distinct
-- row), duplicate (the extra copies of an accepted row, collapsed),
-- rejected with a reason (every raw copy of a quarantined row), or, read
-- through a CRM adapter (var crm), left out with a reason (a deleted or
-- merged deal, another pipeline, and their stage changes). Accepted
-- stage changes dated after the as-of date are counted apart (reason
-- after_as_of_date): they are valid but do not exist yet for these metrics;
-- so are accepted leads whose amount has no exchange rate to the reporting
-- currency (reason no_exchange_rate): read, with an empty amount.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

leads as (

    -- An accepted lead whose amount has no exchange rate is noted
    -- no_exchange_rate (int_lead_amounts): counted, its amount empty.
    select
        'raw_leads' as table_name,
        checked_leads.rejection_reason,
        case when checked_leads.rejection_reason is null then lead_amounts.amount_note end as accepted_note,
        checked_leads.source_row_count
    from {{ ref('int_leads_checked') }} as checked_leads
    left join {{ ref('int_lead_amounts') }} as lead_amounts
        on checked_leads.lead_id = lead_amounts.lead_id

),

transitions as (

    select
        'raw_lead_transitions' as table_name,
        transitions.rejection_reason,
        case
            when transitions.rejection_reason is null and transitions.entered_at >= as_of.as_of_at
                then 'after_as_of_date'
        end as accepted_note,
        transitions.source_row_count
    from {{ ref('int_lead_transitions_checked') }} as transitions
    cross join as_of

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
        accepted_note as reason,
        count(*) as row_count
    from checked
    where rejection_reason is null
    group by
        table_name,
        accepted_note

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
    {%- if crm_setting() != 'generic' %}

    union all

    -- The CRM's rows its adapter deliberately does not read (deleted,
    -- merged, another pipeline), counted under the raw table they would be.
    select
        table_name,
        'left_out' as outcome,
        reason,
        row_count
    from {{ ref('base_' ~ crm_setting() ~ '__left_out') }}
    {%- endif %}

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
