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

{#- Stop the build with problems_sql's rows, if any (crm_stop_if_rows). -#}
{% macro pipedrive_stop_if_rows(problems_sql, heading, advice) -%}
    {%- do crm_stop_if_rows(problems_sql, heading, advice) -%}
{%- endmacro %}
