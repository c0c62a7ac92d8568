{#
    Validated access to the contract's vars. A bad value stops the build at
    compile time with a message naming the var, before any model runs.
#}

{#- as_of_date as a SQL date literal, or none when the var is empty. -#}
{% macro as_of_date_literal() -%}
    {{ return(date_var_literal('as_of_date')) }}
{%- endmacro %}

{#-
    history_start (the first as-of date of fct_stage_conversion_daily) as a
    SQL date literal, or none when the var is empty (a year of history).
-#}
{% macro history_start_literal() -%}
    {{ return(date_var_literal('history_start')) }}
{%- endmacro %}

{#- A date var as a SQL date literal, or none when it is empty; a text that is no date written YYYY-MM-DD stops the build. -#}
{% macro date_var_literal(name) -%}
    {%- set raw_value = var(name, none) -%}
    {%- if raw_value is none or raw_value | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw_value | string | trim -%}
    {%- set match = modules.re.match('^(\\d{4})-(\\d{2})-(\\d{2})$', text) -%}
    {%- set is_valid = false -%}
    {%- if match -%}
        {%- set year = match.group(1) | int -%}
        {%- set month = match.group(2) | int -%}
        {%- set day = match.group(3) | int -%}
        {%- if year >= 1 and 1 <= month <= 12 -%}
            {#- Days in the month: the day before the first of the next month. -#}
            {%- set first_of_next = modules.datetime.date(year + month // 12, month % 12 + 1, 1) -%}
            {%- set month_days = (first_of_next - modules.datetime.timedelta(days=1)).day -%}
            {%- set is_valid = 1 <= day <= month_days -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not is_valid -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a valid date written YYYY-MM-DD (e.g. 2026-06-30), got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as date)") }}
{%- endmacro %}

{#- A var that must be a number; its name is in the message when it is not. -#}
{% macro pipeline_var_number(name) -%}
    {%- set raw_value = var(name) -%}
    {%- set text = raw_value | string | trim -%}
    {%- if not modules.re.match('^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text | float) }}
{%- endmacro %}

{#- A var that must be a number greater than 0. -#}
{% macro pipeline_var_positive_number(name) -%}
    {%- set value = pipeline_var_number(name) -%}
    {%- if value <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be greater than 0, got " ~ var(name)
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- expected_days_factor: a number greater than 0. -#}
{% macro expected_days_factor() -%}
    {{ return(pipeline_var_positive_number('expected_days_factor')) }}
{%- endmacro %}

{#-
    likely_dead_multiple: an old lead overdue by more than this many times
    its stage's expected days to convert is likely dead (docs/metrics.md
    section 4, rpt_old_leads.is_likely_dead); a number greater than 0.
-#}
{% macro likely_dead_multiple() -%}
    {{ return(pipeline_var_positive_number('likely_dead_multiple')) }}
{%- endmacro %}

{#-
    expected_days_basis: what expected_days_factor multiplies (docs/metrics.md
    section 3), `average` (the guide's mean over advanced visits) or
    `km_median` (the Kaplan-Meier median of section 12). Returns the column
    of int_stage_time_to_advance_km or int_stage_thresholds_derived it names.
-#}
{% macro expected_days_basis() -%}
    {%- set basis = var('expected_days_basis') | string | trim | lower -%}
    {%- if basis not in ('average', 'km_median') -%}
        {{ exceptions.raise_compiler_error(
            "var expected_days_basis must be average or km_median, got '" ~ var('expected_days_basis') ~ "'"
        ) }}
    {%- endif -%}
    {{ return(basis) }}
{%- endmacro %}

{#-
    movement_windows_days: the windows of fct_pipeline_movement, in days
    back from the as-of date: a list of whole numbers, 1 or more, such as
    [7, 28] (or the same written "7,28"). Returns the distinct numbers in
    increasing order.
-#}
{% macro movement_windows_days() -%}
    {%- set raw_value = var('movement_windows_days', [7, 28]) -%}
    {%- set items = raw_value if raw_value is iterable and raw_value is not string else (raw_value | string).split(',') -%}
    {%- set days = [] -%}
    {%- for item in items -%}
        {%- set text = item | string | trim -%}
        {%- if not modules.re.match('^[0-9]+$', text) or text | int < 1 -%}
            {{ exceptions.raise_compiler_error(
                "var movement_windows_days must be a list of whole numbers of days, 1 or more (e.g. [7, 28]), got '"
                ~ raw_value ~ "'"
            ) }}
        {%- endif -%}
        {%- if text | int not in days -%}
            {%- do days.append(text | int) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if days | length == 0 -%}
        {{ exceptions.raise_compiler_error("var movement_windows_days must name at least one window, got '" ~ raw_value ~ "'") }}
    {%- endif -%}
    {{ return(days | sort) }}
{%- endmacro %}

{#- conversion_change_days: how many days back rpt_stage_conversion_change compares with, a whole number >= 1. -#}
{% macro conversion_change_days() -%}
    {%- set text = var('conversion_change_days') | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', text) or text | int < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var conversion_change_days must be a whole number of days, 1 or more, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text | int) }}
{%- endmacro %}

{#- A diagnosis threshold: a share between 0 and 1. -#}
{% macro pipeline_var_fraction(name) -%}
    {%- set value = pipeline_var_number(name) -%}
    {%- if value < 0 or value > 1 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be between 0 and 1, got " ~ var(name)) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#-
    future_tolerance_days: how far after the build's start (UTC) a
    created_at or entered_at may be before it is quarantined as
    in_the_future (a typo such as 2052 for 2025 would otherwise become the
    default as-of date and age every lead against it). A whole number of
    days, 0 or more; 1 by default, for clocks and zones a day apart.
-#}
{% macro future_tolerance_days() -%}
    {%- set text = var('future_tolerance_days', 1) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var future_tolerance_days must be a whole number of days, 0 or more, got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text | int) }}
{%- endmacro %}

{#- The latest instant a row may be dated (UTC, naive): the build's start plus the tolerance. -#}
{% macro future_cutoff() -%}
    {%- set cutoff = run_started_at + modules.datetime.timedelta(days=future_tolerance_days()) -%}
    cast({{ sql_text(cutoff.strftime('%Y-%m-%d %H:%M:%S')) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#-
    The rows a refresh re-checks although no new file touched them: their
    date crossed the cutoff since they were checked (a row in_the_future
    whose day has come, or, with a smaller tolerance, the reverse).
-#}
{% macro future_status_changed(date_column) -%}
    (rejection_reason = 'in_the_future' and {{ date_column }} <= {{ future_cutoff() }})
    or ({{ date_column }} > {{ future_cutoff() }} and coalesce(rejection_reason, '') != 'in_the_future')
{%- endmacro %}
