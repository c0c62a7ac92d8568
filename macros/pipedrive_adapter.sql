{#-
    The var crm_won_stage (env PIPELINE_CRM_WON_STAGE): with crm_loader
    export, the name of the Pipedrive stage a deal is won in (an export has
    no deal status). Stages after it are post-sale. A stage name on one
    line; it reaches SQL only through sql_text, and the build stops when no
    stage has that name (base_pipedrive__pipeline_stages).
-#}
{% macro pipedrive_won_stage_setting() -%}
    {%- set value = (var('crm_won_stage', env_var('PIPELINE_CRM_WON_STAGE', '')) or '') | string | trim -%}
    {%- if value == '' or modules.re.search('[\x00-\x1f]', value) -%}
        {{ exceptions.raise_compiler_error(
            "crm_loader export of crm pipedrive: set the var crm_won_stage (env PIPELINE_CRM_WON_STAGE) "
            ~ "to the name of the stage a deal is won in, on one line, e.g. 'Implementation/Onboarding'; got "
            ~ value | tojson
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Stop the build with message_sql's rows, if any (only when building, as stop_on_config_errors). -#}
{% macro pipedrive_stop_if_rows(problems_sql, heading, advice) -%}
    {#- Not in a unit test: its inputs are fixtures, not tables. -#}
    {%- if execute and flags.WHICH in ['run', 'build'] and model.resource_type != 'unit_test' -%}
        {%- set problems = run_query(problems_sql) -%}
        {%- if problems.rows | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in problems.rows -%}
                {%- do lines.append('  - ' ~ row[0]) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(heading ~ ':\n' ~ lines | join('\n') ~ '\n' ~ advice) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
