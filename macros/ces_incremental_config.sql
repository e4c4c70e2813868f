{#- The one place that chooses how the incremental models replace what they recompute.
    Returns a dict for config(**...).

    partition_column (the event layer, keyed on load day):
      DuckDB and PostgreSQL: delete+insert on the column (deletes every row of each
      reprocessed load day, then inserts the recomputed rows);
      Spark: insert_overwrite of the partitions (Spark has no delete+insert).
    unique_key (a small lookup table, one row per key):
      DuckDB and PostgreSQL: delete+insert on the key;
      Spark: a plain table rebuilt every run (merge needs Delta or Iceberg, and the table is
      a few dozen rows). -#}
{% macro ces_incremental_config(partition_column=none, unique_key=none) -%}
    {{ return(adapter.dispatch('ces_incremental_config', 'ces')(partition_column, unique_key)) }}
{%- endmacro %}

{% macro default__ces_incremental_config(partition_column, unique_key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': partition_column or unique_key,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__ces_incremental_config(partition_column, unique_key) -%}
    {%- if partition_column is none -%}
        {{ return({'materialized': 'table', 'file_format': var('ces_spark_file_format')}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [partition_column],
        'file_format': var('ces_spark_file_format'),
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- Appended to the final select of a model partitioned by ces_incremental_config: on Spark,
    every row of a partition goes to one task, so each load day is one Parquet file instead of
    one per shuffle partition (4). Each file is opened by every query that reads the layer:
    at 10M events the layer had 736 files for 184 load days. Nothing on the other engines. -#}
{% macro ces_one_file_per_partition() -%}
    {{ return(adapter.dispatch('ces_one_file_per_partition', 'ces')()) }}
{%- endmacro %}

{% macro default__ces_one_file_per_partition() -%}
{%- endmacro %}

{% macro spark__ces_one_file_per_partition() -%}
    {#- ces_incremental_config always gives partition_by as a list -#}
    {%- set columns = config.get('partition_by') -%}
    {%- if columns -%}
        distribute by {{ columns | join(', ') }}
    {%- endif -%}
{%- endmacro %}
