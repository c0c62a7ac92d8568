{#
    The one way a text that a user or a file controls (a file name or
    path, a var) reaches the models' SQL: as a string literal (sql_text),
    quoted for the engine, after the caller has validated what it
    expects; a var that names a schema, table or column must be a plain
    name (identifier_var). The loader quotes what it reads from files
    (sales_pipeline/export_files.py: sql_text, quote_identifier).
    Anyone who can drop a file into the export folder is not trusted: a
    file named  x'); copy ... to '...  is data in a string literal here,
    never SQL.
#}

{#- A text as a SQL string literal, or null. -#}
{% macro sql_text(text) -%}
    {{- 'null' if text is none else adapter.dispatch('sql_text', 'sales_pipeline')(text | string) -}}
{%- endmacro %}

{#- DuckDB and PostgreSQL (standard_conforming_strings): a quote is doubled, a backslash is itself. -#}
{% macro default__sql_text(text) -%}
    {{- "'" ~ text | replace("'", "''") ~ "'" -}}
{%- endmacro %}

{#- Spark reads a backslash in a literal as an escape, and '' as two adjacent literals. -#}
{% macro spark__sql_text(text) -%}
    {{- "'" ~ text | replace('\\', '\\\\') | replace("'", "\\'") ~ "'" -}}
{%- endmacro %}

{#-
    A var (or its env variable) that names a schema, a table or a column:
    a plain name, letters, digits and _ not starting with a digit, at most
    63 characters (PostgreSQL's limit), or the build stops naming it.
    Returns the name, or none when unset. The same rule is written into
    models/staging/crm/_crm__sources.yml, which cannot call a macro: there a name
    that breaks it is made inert (every other character becomes _) for
    the commands that read sources without building (source freshness).
-#}
{% macro identifier_var(name, env_name=none) -%}
    {%- set value = var(name, env_var(env_name, '') if env_name else '') -%}
    {%- set text = (value or '') | string | trim -%}
    {%- if text == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]{0,62}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ (" (env " ~ env_name ~ ")" if env_name else "")
            ~ " must be a plain name: letters, digits and _, not starting with a digit,"
            ~ " at most 63 characters; got '" ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#-
    The vars that name where the CRM's tables are, checked before a model
    reads them (crm_tables_setting calls it): crm_database, crm_schema,
    crm_leads_table, crm_transitions_table, crm_loaded_at_field.
-#}
{% macro check_crm_identifier_vars() -%}
    {%- do identifier_var('crm_database', 'PIPELINE_CRM_DATABASE') -%}
    {%- do identifier_var('crm_schema', 'PIPELINE_CRM_SCHEMA') -%}
    {%- do identifier_var('crm_leads_table') -%}
    {%- do identifier_var('crm_transitions_table') -%}
    {%- do identifier_var('crm_loaded_at_field') -%}
{%- endmacro %}
