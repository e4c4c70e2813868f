{#- After every run (an on-run-end hook): for each test that failed or warned, print what to
    fix and the first failing rows, read back from the rows dbt stored for it. dbt itself
    prints only "Got N results"; the advice lives in each test's how_to_fix column. -#}
{% macro ces_explain_failures(results) -%}
    {%- if execute -%}
        {%- for result in results
                if result.node.resource_type == 'test' and result.status in ['fail', 'warn']
                   and result.node.relation_name -%}
            {%- set rows = run_query('select * from ' ~ result.node.relation_name ~ ' limit 5') -%}
            {%- set columns = rows.column_names | reject('equalto', 'how_to_fix') | list -%}
            {%- set advice = rows.rows[0]['how_to_fix'] if rows.rows and 'how_to_fix' in rows.column_names else none -%}
            {{- log(result.status | upper ~ " " ~ result.node.name ~ " (" ~ result.failures ~ " rows"
                ~ (", stored in " ~ result.node.relation_name if result.status == 'fail' else "") ~ ")", info=true) -}}
            {%- if advice -%}
                {{- log("    how to fix: " ~ advice, info=true) -}}
            {%- endif -%}
            {%- for row in rows.rows -%}
                {%- set cells = [] -%}
                {%- for column in columns[:6] -%}
                    {%- do cells.append(column ~ "=" ~ row[column]) -%}
                {%- endfor -%}
                {{- log("    " ~ cells | join(", "), info=true) -}}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
