{#- The warehouse's own record of the dbt commands that ran on it (an on-run-start hook), in
    the project's intermediate schema: intermediate.ces_build_log. The publish step matches the
    newest `build` recorded here with target/run_results.json, so it never publishes a
    warehouse on the strength of a build that ran on another one. -#}
{% macro ces_build_log_relation() -%}
    {#- Spark has no database level: schema.table -#}
    {{ return(api.Relation.create(database=target.database if target.database is defined else none,
                                  schema=generate_schema_name('intermediate', none),
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
