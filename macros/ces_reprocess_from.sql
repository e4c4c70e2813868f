{#- First load date the incremental event layer reprocesses: the newest load date already
    processed, minus var('ces_lookback_days'). Whole load days are replaced, so re-running
    is idempotent and a re-delivered or late event is counted once. -#}
{% macro ces_reprocess_from() -%}
    (
        select {{ dbt.dateadd('day', -1 * var('ces_lookback_days') | int, 'max(loaded_date)') }}
        from {{ this }}
    )
{%- endmacro %}
