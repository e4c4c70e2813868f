{#- The one place that chooses how the incremental event layer replaces reprocessed load days.
    DuckDB and PostgreSQL: delete+insert on the partition column (deletes every row of each
    reprocessed load day, then inserts the recomputed rows).
    Spark: insert_overwrite of the partitions (Spark has no delete+insert).
    Returns a dict for config(**...). -#}
{% macro ces_incremental_config(partition_column) -%}
    {{ return(adapter.dispatch('ces_incremental_config', 'ces')(partition_column)) }}
{%- endmacro %}

{% macro default__ces_incremental_config(partition_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': partition_column,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{% macro spark__ces_incremental_config(partition_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [partition_column],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}
