{#
    The formulas of docs/metrics.md, each in one place. Models call these
    macros instead of writing the arithmetic themselves.
#}

{#- docs/metrics.md section 4: CR = DL / (CQL + OQL), null when nothing completed or is old. -#}
{% macro conversion_rate(leads_advanced, leads_completed, leads_old) -%}
    {{ ratio(leads_advanced, '(' ~ leads_completed ~ ' + ' ~ leads_old ~ ')') }}
{%- endmacro %}

{#- docs/metrics.md section 6: the share of decided-or-stuck leads that are stuck. -#}
{% macro old_lead_share(leads_completed, leads_old) -%}
    {{ ratio(leads_old, '(' ~ leads_completed ~ ' + ' ~ leads_old ~ ')') }}
{%- endmacro %}

{#-
    docs/metrics.md section 3: factor x average days to advance; the stage's
    default_expected_days when nothing has advanced yet; else null.
-#}
{% macro expected_days_to_convert(avg_days_to_advance, default_expected_days) -%}
    coalesce(
        {{ expected_days_factor() }} * {{ avg_days_to_advance }},
        {{ default_expected_days }}
    )
{%- endmacro %}

{#- docs/metrics.md section 4: old is strictly past the threshold; no threshold, never old. -#}
{% macro is_past_threshold(days_in_stage, expected_days_to_convert) -%}
    coalesce({{ days_in_stage }} > {{ expected_days_to_convert }}, false)
{%- endmacro %}

{#-
    docs/metrics.md section 4: an old lead is likely dead when it is overdue
    by strictly more than likely_dead_multiple (var) x its stage's expected
    days to convert; never without a threshold.
-#}
{% macro is_likely_dead(days_overdue, expected_days_to_convert) -%}
    coalesce({{ days_overdue }} > {{ likely_dead_multiple() }} * {{ expected_days_to_convert }}, false)
{%- endmacro %}

{#-
    docs/metrics.md section 5: a count of whole deals or leads needed, ceil(round(x, 9)):
    rounding to 9 decimals first keeps floating-point noise from adding one.
-#}
{% macro whole_units_needed(quantity) -%}
    cast(ceil({{ round_to_places(quantity, 9) }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- round(x, places) of a double; PostgreSQL rounds to places only numerics. -#}
{% macro round_to_places(expression, places) -%}
    {{ return(adapter.dispatch('round_to_places', 'sales_pipeline')(expression, places)) }}
{%- endmacro %}

{% macro default__round_to_places(expression, places) -%}
    round({{ expression }}, {{ places }})
{%- endmacro %}

{% macro postgres__round_to_places(expression, places) -%}
    round(cast({{ expression }} as numeric), {{ places }})
{%- endmacro %}

{#-
    docs/metrics.md section 6: how a stage's conversion reads against its benchmark,
    through its old leads. Thresholds are the diagnosis_* vars.
-#}
{% macro stage_diagnosis(conversion_rate, benchmark_conversion_rate, old_lead_share) -%}
    case
        when {{ conversion_rate }} is null or {{ benchmark_conversion_rate }} is null then null
        when {{ conversion_rate }} >= {{ benchmark_conversion_rate }} then 'healthy'
        when {{ old_lead_share }} > {{ pipeline_var_fraction('diagnosis_bandwidth_threshold') }} then 'bandwidth'
        when {{ old_lead_share }} < {{ pipeline_var_fraction('diagnosis_strict_threshold') }} then 'standards_too_strict'
        else 'below_benchmark'
    end
{%- endmacro %}

{#-
    docs/metrics.md section 5, win_probability: how many times the chain's
    step matrix is squared (int_stage_win_probability); 2^6 = 64 steps walk
    a pipeline of up to 64 open stages to its end.
-#}
{% macro win_probability_chain_squarings() -%}
    {{ return(6) }}
{%- endmacro %}

{% macro max_open_stages() -%}
    {{ return(2 ** win_probability_chain_squarings()) }}
{%- endmacro %}

{#-
    A probability of the chain as an exact decimal: a product of two has
    30 places, which no engine rounds away, and sums of them do not depend
    on the order they are added in (so a refresh equals a full build).
-#}
{% macro chain_decimal(expression) -%}
    cast({{ expression }} as decimal(18, 15))
{%- endmacro %}

{#-
    cumulative_product(expression, order_by, partition_by): running product
    of a column of non-negative factors in the given order (a window
    function, over each partition when one is given), null as soon as a
    factor is null. The fixed order makes the floating-point result the
    same on every rebuild.
-#}
{% macro cumulative_product(expression, order_by, partition_by=none) -%}
    {%- set running -%}
        over ({% if partition_by %}partition by {{ partition_by }} {% endif -%}
        order by {{ order_by }} rows between unbounded preceding and current row)
    {%- endset -%}
    {{ return(adapter.dispatch('cumulative_product', 'sales_pipeline')(expression, running)) }}
{%- endmacro %}

{#- PostgreSQL: the product aggregate macros/engine_functions.sql creates (ln/exp would add noise). -#}
{% macro postgres__cumulative_product(expression, running) -%}
    case
        when count(*) {{ running }} > count({{ expression }}) {{ running }} then null
        else {{ target.schema }}.pipeline_product({{ expression }}) {{ running }}
    end
{%- endmacro %}

{#- Spark: the factors so far as an array, multiplied in order. -#}
{% macro spark__cumulative_product(expression, running) -%}
    case
        when count(*) {{ running }} > count({{ expression }}) {{ running }} then null
        else aggregate(
            collect_list({{ expression }}) {{ running }},
            cast(1 as double),
            (product_so_far, factor) -> product_so_far * factor
        )
    end
{%- endmacro %}

{#-
    DuckDB has a product aggregate, which skips nulls: a null factor goes in
    as NaN, which every product after it keeps, and comes out as null. One
    window instead of three (counting the factors and the nulls) halves the
    Kaplan-Meier model's time; DuckDB compares NaN equal to NaN.
-#}
{% macro default__cumulative_product(expression, running) -%}
    nullif(
        product(coalesce(cast({{ expression }} as {{ type_double() }}), cast('nan' as {{ type_double() }}))) {{ running }},
        cast('nan' as {{ type_double() }})
    )
{%- endmacro %}

{#- The lead attributes the marts are cut by (docs/metrics.md section 8). -#}
{% macro lead_dimensions() -%}
    {{ return(['owner_id', 'lead_source', 'segment']) }}
{%- endmacro %}

{#-
    How the per-dimension marts cut their rows in one aggregate, with no
    unpivot: a grouping set per dimension (after the keys every row is
    grouped by; overall=true adds the set of the keys alone), and for a
    grouped row its dimension ('overall' for that set) and value.
-#}
{% macro dimension_grouping_sets(keys=[], overall=false) -%}
    {%- set sets = [keys] if overall else [] -%}
    {%- for dimension in lead_dimensions() -%}
        {%- do sets.append(keys + [dimension]) -%}
    {%- endfor -%}
    {#- One line, which the models mark for sqlfluff: its DuckDB dialect cannot parse grouping sets. -#}
    grouping sets ({% for columns in sets %}({{ columns | join(', ') }}){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro grouped_dimension() -%}
    case
        {%- for dimension in lead_dimensions() %}
        when grouping({{ dimension }}) = 0 then '{{ dimension }}'
        {%- endfor %}
        else 'overall'
    end
{%- endmacro %}

{% macro grouped_dimension_value() -%}
    case
        {%- for dimension in lead_dimensions() %}
        when grouping({{ dimension }}) = 0 then {{ dimension }}
        {%- endfor %}
    end
{%- endmacro %}

{#- docs/metrics.md section 9: won over decided (won or lost now), null when none is decided. -#}
{% macro win_rate(leads_won, leads_decided) -%}
    {{ ratio(leads_won, leads_decided) }}
{%- endmacro %}

{#-
    docs/metrics.md section 10: the revenue a day the healthy pipeline is
    expected to bring, open leads x win rate x average won deal / average
    sales cycle days.
-#}
{% macro pipeline_velocity(leads_open, win_rate, avg_won_deal_usd, avg_sales_cycle_days) -%}
    {{ ratio(leads_open ~ ' * ' ~ win_rate ~ ' * ' ~ avg_won_deal_usd, avg_sales_cycle_days) }}
{%- endmacro %}

{#- median(expression): the interpolated median of a group (an aggregate). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'sales_pipeline')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{#- Spark's percentile interpolates as percentile_cont does. -#}
{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}

{#-
    docs/metrics.md section 17: the chance a lead is won in a month's
    window, p x (W(t1) - W(t2)) / (p x W(a) + (1 - p) x L(a)): W(t1) and
    W(t2) the share of its stage's won deals not yet won at its age at the
    window's start and end; the denominator the chance that a lead of the
    stage is still open at its age a, won later (W(a)) or lost later (L(a),
    the share of lost deals not yet lost). A lead not created yet (no
    shares now) is open at age 0: the denominator is 1. Null without a
    probability; 0 when the denominator is 0 (no deal of the stage, won or
    lost, took that long).
-#}
{% macro forecast_chance(win_probability, share_at_start, share_at_end, won_share_now=none, lost_share_now=none) -%}
    {%- set still_open -%}
        {%- if won_share_now is none -%}1{%- else -%}
        ({{ win_probability }} * {{ won_share_now }} + (1 - {{ win_probability }}) * {{ lost_share_now }})
        {%- endif -%}
    {%- endset -%}
    case
        when {{ still_open }} > 0
            then {{ win_probability }} * ({{ share_at_start }} - {{ share_at_end }}) / {{ still_open }}
        when {{ win_probability }} is not null then 0
    end
{%- endmacro %}

{#- docs/metrics.md section 17: how many months the forecast looks ahead. -#}
{% macro forecast_months_ahead() -%}
    {{ return(3) }}
{%- endmacro %}

{#-
    The share of a row of per-boundary shares (columns won_share_0,
    won_share_1, ...) at the boundary the expression gives: boundary k ends
    month k's window and starts month k + 1's.
-#}
{% macro share_at_boundary(shares, boundary) -%}
    case {{ boundary }}
        {%- for number in range(forecast_months_ahead() + 1) %}
        when {{ number }} then {{ shares }}.won_share_{{ number }}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    A sum of doubles that does not depend on the order an engine adds them
    in (a refresh and a full refresh, or two engines, add the same terms in
    other orders): each term rounded to 12 decimals and added exactly, as a
    decimal. The forecast's sums (docs/metrics.md section 17).
-#}
{% macro order_free_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 12))) as {{ type_double() }})
{%- endmacro %}
