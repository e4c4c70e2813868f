{#- Validates every var the models read before anything runs (an on-run-start hook), and
    checks that the raw contract is where var('ces_raw_schema') says. A wrong value stops the
    run with one message per problem: the var, the value, and what is allowed. -#}
{% macro ces_check_settings() -%}
    {%- if execute -%}
        {%- set problems = [] -%}

        {%- for name in ['ces_window_days', 'ces_churn_inactive_days'] -%}
            {%- do problems.append(ces_check_integer(name, 1)) -%}
        {%- endfor -%}
        {%- for name in ['ces_lookback_days', 'ces_future_tolerance_hours', 'ces_trial_min_active_days',
                         'ces_trial_min_event_types', 'ces_training_min_active_days',
                         'ces_training_max_event_types'] -%}
            {%- do problems.append(ces_check_integer(name, 0)) -%}
        {%- endfor -%}
        {%- for name in ['ces_freshness_warn_hours', 'ces_freshness_error_hours'] -%}
            {%- do problems.append(ces_check_integer(name, 1)) -%}
        {%- endfor -%}
        {%- if problems | select | list | length == 0
               and var('ces_freshness_warn_hours') > var('ces_freshness_error_hours') -%}
            {%- do problems.append("ces_freshness_warn_hours (" ~ var('ces_freshness_warn_hours')
                ~ ") is larger than ces_freshness_error_hours (" ~ var('ces_freshness_error_hours')
                ~ "): the warning must come first") -%}
        {%- endif -%}
        {%- do problems.append(ces_check_number('ces_churn_drop_pct', 0, 100, min_exclusive=true)) -%}
        {%- do problems.append(ces_check_number('ces_upsell_min_percentile', 0, 100)) -%}
        {%- for name in ['ces_trial_min_probability', 'ces_churn_min_probability', 'ces_upsell_min_probability'] -%}
            {%- if var(name) is not none -%}
                {%- do problems.append(ces_check_number(name, 0, 1, min_exclusive=true)
                    ~ ("; or null for the flag's rule" if ces_check_number(name, 0, 1, min_exclusive=true) else "")) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do problems.append(ces_check_date('ces_as_of_date', nullable=true)) -%}
        {%- do problems.append(ces_check_date('ces_min_occurred_date', nullable=false)) -%}
        {%- for name in ['ces_serve_customer_name', 'ces_allow_empty_window'] -%}
            {%- if var(name) is not boolean -%}
                {%- do problems.append(name ~ " is " ~ var(name) | tojson ~ "; allowed: true or false") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set plans = var('ces_upsell_plans') -%}
        {%- if plans is string or plans is not iterable or plans is mapping
               or plans | reject('string') | list | length > 0 -%}
            {%- do problems.append("ces_upsell_plans is " ~ plans | tojson
                ~ "; allowed: a list of plan names, e.g. [starter] or [starter, professional]") -%}
        {%- endif -%}
        {%- for name in ['ces_impact_base_version', 'ces_impact_compare_version'] -%}
            {%- if var(name) is not none and var(name) is not string -%}
                {%- do problems.append(name ~ " is " ~ var(name) | tojson
                    ~ "; allowed: null or a weights_version of seeds/ces_event_weights.csv, e.g. v2") -%}
            {%- endif -%}
        {%- endfor -%}

        {%- set backtest_dates = var('ces_backtest_dates') -%}
        {%- if backtest_dates is not none -%}
            {%- if backtest_dates is string or backtest_dates is mapping or backtest_dates is not iterable
                   or backtest_dates | length == 0 -%}
                {%- do problems.append("ces_backtest_dates is " ~ backtest_dates | tojson
                    ~ "; allowed: null (every month end) or a list of dates, e.g. ['2026-06-30', '2026-09-30']") -%}
            {%- else -%}
                {%- for value in backtest_dates -%}
                    {%- do problems.append(ces_check_date_value('ces_backtest_dates', value)) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}

        {%- set raw_database = var('ces_raw_database') -%}
        {%- if raw_database is not none and (raw_database is not string or raw_database | trim == '') -%}
            {%- do problems.append("ces_raw_database is " ~ raw_database | tojson
                ~ "; allowed: null (the target's own database) or the name of the database that holds ces_raw_schema") -%}
        {%- elif raw_database is not none and target.type == 'spark' -%}
            {%- do problems.append("ces_raw_database is " ~ raw_database | tojson
                ~ ", but Spark has no database level above its schemas: leave it null and set ces_raw_schema"
                ~ " to the Spark database that holds the raw tables") -%}
        {%- elif raw_database is not none and target.type == 'postgres' and raw_database != target.database -%}
            {%- do problems.append("ces_raw_database is " ~ raw_database | tojson ~ ", but PostgreSQL cannot read"
                ~ " across databases and the target's is " ~ target.database | tojson
                ~ ": leave it null and load the raw tables into a schema of " ~ target.database) -%}
        {%- endif -%}

        {%- if var('ces_spark_file_format') not in ['parquet', 'delta'] -%}
            {%- do problems.append("ces_spark_file_format is " ~ var('ces_spark_file_format') | tojson
                ~ "; allowed: parquet, or delta on a Spark that has Delta Lake") -%}
        {%- endif -%}

        {%- set problems = problems | select | list -%}
        {%- if problems | length == 0 -%}
            {%- do problems.extend(ces_check_raw_contract()) -%}
        {%- endif -%}
        {%- if problems | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "The settings are wrong, so nothing was built:\n  - " ~ problems | join("\n  - ")
                ~ "\nSet vars in dbt_project.yml or per run with --vars (make build VARS='{name: value}')."
                ~ " docs/settings.md lists each one.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{%- macro ces_check_integer(name, minimum) -%}
    {%- set value = var(name) -%}
    {%- if value is boolean or value is not integer or value < minimum -%}
        {{- return(name ~ " is " ~ value | tojson ~ "; allowed: a whole number of at least " ~ minimum) -}}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}


{%- macro ces_check_number(name, minimum, maximum, min_exclusive=false) -%}
    {%- set value = var(name) -%}
    {%- if value is boolean or value is not number or value > maximum
           or value < minimum or (min_exclusive and value == minimum) -%}
        {{- return(name ~ " is " ~ value | tojson ~ "; allowed: a number "
            ~ ("above " if min_exclusive else "from ") ~ minimum ~ (" up to " if min_exclusive else " to ")
            ~ maximum) -}}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}


{%- macro ces_check_date(name, nullable) -%}
    {{- return(ces_check_date_value(name, var(name), nullable)) -}}
{%- endmacro %}


{%- macro ces_check_date_value(name, value, nullable=false) -%}
    {%- if value is none and nullable -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- set allowed = "; allowed: a real date written YYYY-MM-DD" ~ (", or null" if nullable else "") -%}
    {%- set parts = modules.re.match('^(\\d{4})-(\\d{2})-(\\d{2})$', text) -%}
    {%- if not parts -%}
        {{- return(name ~ " is " ~ text | tojson ~ allowed) -}}
    {%- endif -%}
    {%- set year, month, day = parts.group(1) | int, parts.group(2) | int, parts.group(3) | int -%}
    {%- if month < 1 or month > 12 or day < 1 -%}
        {{- return(name ~ " is " ~ text | tojson ~ allowed) -}}
    {%- endif -%}
    {%- set next_month = modules.datetime.date(year + (month // 12), month % 12 + 1, 1) -%}
    {%- if day > (next_month - modules.datetime.timedelta(days=1)).day -%}
        {{- return(name ~ " is " ~ text | tojson ~ allowed) -}}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}


{#- The raw contract: the schema must exist and hold every source table. A missing table is
    never filled with demo data: the run stops and says what to load or which var to set. -#}
{%- macro ces_check_raw_contract() -%}
    {%- set problems = [] -%}
    {%- set sources = graph.sources.values() | selectattr('package_name', 'equalto', 'ces')
                      | sort(attribute='identifier') | list -%}
    {%- set raw_schema = var('ces_raw_schema') -%}
    {%- set built = graph.nodes.values() | selectattr('package_name', 'equalto', 'ces')
                    | selectattr('resource_type', 'in', ['model', 'seed', 'test'])
                    | map(attribute='schema') | unique | list -%}
    {%- if raw_schema is not string or raw_schema | trim == '' -%}
        {%- do problems.append("ces_raw_schema is " ~ raw_schema | tojson ~ "; allowed: the name of the schema that holds your raw tables") -%}
    {%- elif raw_schema in built and var('ces_raw_database') in [none, target.database] -%}
        {%- do problems.append("ces_raw_schema is " ~ raw_schema | tojson ~ ", a schema this project builds and may drop ("
            ~ built | sort | join(', ') ~ "); keep raw data in a schema of its own") -%}
    {%- elif not adapter.check_schema_exists(sources[0].database, raw_schema) -%}
        {%- do problems.append("ces_raw_schema is " ~ raw_schema | tojson ~ ", but no schema of that name exists"
            ~ (" in " ~ sources[0].database if sources[0].database else "")
            ~ "; allowed: the existing schema that holds your raw tables (" ~ sources | map(attribute='identifier') | join(', ')
            ~ "), e.g. --vars '{ces_raw_schema: my_raw}'") -%}
    {%- else -%}
        {%- for source in sources -%}
            {%- set identifier_var = 'ces_' ~ source.name ~ '_identifier' -%}
            {%- if source.identifier is not string or source.identifier | trim == '' or source.identifier == 'None' -%}
                {%- do problems.append(identifier_var ~ " is " ~ var(identifier_var, none) | tojson
                    ~ "; allowed: the name of your raw " ~ source.name ~ " table in " ~ raw_schema) -%}
            {%- elif source.meta.optional is not defined
                    and adapter.get_relation(database=source.database, schema=source.schema, identifier=source.identifier) is none -%}
                {%- do problems.append("the raw table " ~ source.schema ~ "." ~ source.identifier
                    ~ " is missing: load it (docs/own-data.md), or set ces_raw_schema to the schema that holds it"
                    ~ " and " ~ identifier_var ~ " to its name there") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(problems) -}}
{%- endmacro %}
