{#- First load time the incremental event layer reprocesses: the newest load date already
    processed, minus var('ces_lookback_days'). Whole load days are replaced, so re-running
    is idempotent and a re-delivered or late event is counted once.

    It is looked up when the model runs and written into the SQL as a literal, not left as a
    subquery: with a constant the engine can skip old row groups of the raw tables by their
    loaded_at statistics and knows the batch is small when it plans the joins (at 100M events
    the subquery form made an incremental run cost 72% of a full build). -#}
{% macro ces_reprocess_from() -%}
    {%- set cutoff = none -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select " ~ dbt.dateadd('day', -1 * var('ces_lookback_days') | int, 'max(loaded_date)')
            ~ " from " ~ this
        ) -%}
        {%- set cutoff = result.columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ cutoff if cutoff is not none else "1900-01-01" }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
