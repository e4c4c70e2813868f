{#- The one place where a column type is named per engine. Contracts (data_type in the models'
    YAML) and seed column_types are written in portable names: varchar, integer, bigint, date,
    boolean, timestamp, decimal(p, s). This macro says what the engine calls each one. -#}
{% macro ces_data_type(data_type) -%}
    {{ return(adapter.dispatch('ces_data_type', 'ces')(data_type)) }}
{%- endmacro %}

{% macro default__ces_data_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- PostgreSQL has no type named double -#}
{% macro postgres__ces_data_type(data_type) -%}
    {{ return('double precision' if data_type | trim | lower == 'double' else data_type) }}
{%- endmacro %}

{#- Spark refuses varchar without a length (DATATYPE_MISSING_SIZE); its text type is string. -#}
{% macro spark__ces_data_type(data_type) -%}
    {{ return('string' if data_type | trim | lower in ('varchar', 'text') else data_type) }}
{%- endmacro %}

{#- A copy of a column dict (contract columns, or a seed's column_types) with every type named
    as the engine names it. -#}
{% macro ces_engine_columns(columns) -%}
    {%- set mapped = {} -%}
    {%- for name, column in columns.items() -%}
        {%- if column is mapping -%}
            {%- set copy = dict(column) -%}
            {%- if column.get('data_type') -%}
                {%- do copy.update({'data_type': ces_data_type(column['data_type'])}) -%}
            {%- endif -%}
            {%- do mapped.update({name: copy}) -%}
        {%- else -%}
            {%- do mapped.update({name: ces_data_type(column)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(mapped) }}
{%- endmacro %}

{#- On Spark (Parquet) a contract's types are read in one place only, the empty-schema query
    that dbt compares with the model's columns (no typed DDL; constraints are Delta-only), and a
    seed's column_types in its create and insert statements. These three wrappers hand dbt's
    own macros the same columns with Spark's type names. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(ces_engine_columns(columns))) }}
{%- endmacro %}

{% macro ces_seed_with_engine_types(model) -%}
    {%- set config = dict(model['config']) -%}
    {%- do config.update({'column_types': ces_engine_columns(config.get('column_types') or {})}) -%}
    {%- set copy = dict(model) -%}
    {%- do copy.update({'config': config}) -%}
    {{ return(copy) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {{ return(dbt.spark__create_csv_table(ces_seed_with_engine_types(model), agate_table)) }}
{%- endmacro %}

{#- Spark seeds are loaded with literals written here, not dbt-spark's bindings: through the
    session method those turn an empty cell into the text 'None' and let an apostrophe in a
    description end the string. Here an empty cell is null, and quotes and backslashes are
    escaped as Spark SQL reads them. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set types = ces_engine_columns(model['config'].get('column_types') or {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for column in agate_table.column_names -%}
                {%- set value = row[loop.index0] -%}
                {%- set type = types.get(column) or adapter.convert_type(agate_table, loop.index0) -%}
                {%- if value is none -%}
                    {%- do values.append('cast(null as ' ~ type ~ ')') -%}
                {%- else -%}
                    {%- set text = value | string | replace('\\', '\\\\') | replace("'", "\\'") -%}
                    {%- do values.append("cast('" ~ text ~ "' as " ~ type ~ ")") -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values ' ~ rows | join(', ') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
