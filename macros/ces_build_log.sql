{#- The warehouse's own record of the dbt commands that ran on it (an on-run-start hook), in
    the schema of CES's intermediate models: intermediate.ces_build_log in this project. The publish step matches the
    newest `build` recorded here with target/run_results.json, so it never publishes a
    warehouse on the strength of a build that ran on another one. -#}
{% macro ces_build_log_relation() -%}
    {#- beside CES's intermediate models, wherever the project that builds them puts them (a host
        project chooses with its own `models: ces: +schema:`); Spark has no database level -#}
    {%- set anchor = graph.nodes.values() | selectattr('package_name', 'equalto', 'ces')
                     | selectattr('name', 'equalto', 'int_months') | first -%}
    {{ return(api.Relation.create(database=anchor.database, schema=anchor.schema,
                                  identifier='ces_build_log')) }}
{%- endmacro %}


{% macro ces_record_build() -%}
    {%- if execute and flags.WHICH in ['build', 'run', 'test', 'seed'] -%}
        {%- set log_table = ces_build_log_relation() -%}
        {%- do adapter.create_schema(log_table) -%}
        {%- if adapter.get_relation(database=log_table.database, schema=log_table.schema,
                                    identifier=log_table.identifier) is none -%}
            {%- call statement('ces_create_build_log') -%}
                create table {{ log_table }} (
                    invocation_id {{ dbt.type_string() }},
                    command {{ dbt.type_string() }},
                    started_at {{ dbt.type_timestamp() }}
                )
            {%- endcall -%}
        {%- endif -%}
        {%- call statement('ces_record_build') -%}
            insert into {{ log_table }}
            values ('{{ invocation_id }}', '{{ flags.WHICH }}', {{ dbt.current_timestamp() }})
        {%- endcall -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    select 1
{%- endmacro %}
