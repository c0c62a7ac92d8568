-- One row per open stage S x stage T that S's cohort advanced into
-- (docs/metrics.md section 5): leads_advanced_to, the cohort leads whose
-- first visit after their first visit of S, of an open or won stage with a
-- higher stage_order, is a visit of T. Skips go straight to their stage;
-- per S the rows add up to leads_advanced.
with

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}

),

cohort_entries as (

    select
        lead_id,
        stage_key,
        stage_order,
        visit_number
    from visits
    where is_cohort_entry and is_cohort_advanced

),

later_steps_up as (

    -- The lead's later visits of an open or won stage above S, in order.
    select
        cohort_entries.lead_id,
        cohort_entries.stage_key,
        later.stage_key as to_stage_key,
        row_number() over (
            partition by cohort_entries.lead_id, cohort_entries.stage_key
            order by later.visit_number
        ) as step_number
    from cohort_entries
    inner join visits as later
        on
            cohort_entries.lead_id = later.lead_id
            and cohort_entries.visit_number < later.visit_number
            and cohort_entries.stage_order < later.stage_order
            and later.stage_type in ('open', 'won')

),

final as (

    select
        stage_key,
        to_stage_key,
        cast(count(*) as {{ dbt.type_bigint() }}) as leads_advanced_to
    from later_steps_up
    where step_number = 1
    group by stage_key, to_stage_key

)

select * from final
