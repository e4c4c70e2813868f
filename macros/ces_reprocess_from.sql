{#- First load time an incremental run of the event layer reprocesses.

    The run checks the load days from var('ces_lookback_days') before the newest load day
    already processed, up to now. For each of those days it compares how many deliveries the
    inputs hold with how many this model has processed (processed_count over this model's rows
    of that day). It reprocesses from the earliest day that differs: a new load, or a load that
    committed late with an older loaded_at. Every later day is reprocessed too, because an
    earlier copy can turn a later delivery into a duplicate. Days that did not change are
    skipped, so a daily run does work in proportion to the new loads, not to the lookback.
    When nothing changed, the returned time lies after every load and the batch is empty.

    inputs:          relations with a loaded_at column, read with a constant filter on it
    processed_count: the expression that counts this model's deliveries per loaded_date

    The result is looked up when the model runs and written into the SQL as a literal, not left
    as a subquery: with a constant the engine can skip old row groups by their loaded_at
    statistics and knows the batch is small when it plans the joins (at 100M events the
    subquery form made an incremental run cost 72% of a full build). -#}
{% macro ces_reprocess_from(inputs, processed_count='count(*)') -%}
    {%- set cutoff = none -%}
    {%- if execute -%}
        {%- set check_from = ces_lookback_start('loaded_date') -%}
        {%- if check_from is none -%}
            {%- set cutoff = '1900-01-01' -%}
        {%- else -%}
            {%- set changed_days -%}
                with

                incoming as (
                    {%- for input in inputs %}
                    select
                        cast(cast(loaded_at as {{ dbt.type_timestamp() }}) as date) as loaded_date,
                        count(*) as deliveries
                    from {{ input }}
                    where cast(loaded_at as {{ dbt.type_timestamp() }}) >= cast('{{ check_from }}' as {{ dbt.type_timestamp() }})
                    group by cast(cast(loaded_at as {{ dbt.type_timestamp() }}) as date)
                    {%- if not loop.last %}
                    union all
                    {%- endif %}
                    {%- endfor %}
                ),

                incoming_days as (
                    select loaded_date, sum(deliveries) as deliveries
                    from incoming
                    group by loaded_date
                ),

                processed_days as (
                    select loaded_date, {{ processed_count }} as deliveries
                    from {{ this }}
                    where loaded_date >= cast('{{ check_from }}' as date)
                    group by loaded_date
                )

                select
                    min(coalesce(incoming_days.loaded_date, processed_days.loaded_date)),
                    max(incoming_days.loaded_date)
                from incoming_days
                full outer join processed_days
                    on incoming_days.loaded_date = processed_days.loaded_date
                where coalesce(incoming_days.deliveries, 0) <> coalesce(processed_days.deliveries, 0)
            {%- endset -%}
            {%- set row = run_query(changed_days).rows[0] -%}
            {#- only a run or build processes anything; compile and docs generate log it to the file only -#}
            {%- set processing = flags.WHICH in ['run', 'build'] -%}
            {%- if row[0] is none -%}
                {%- set cutoff = '9999-12-31' -%}
                {{ log(this.identifier ~ ": no load day changed since " ~ check_from ~ "; nothing to reprocess", info=processing) }}
            {%- else -%}
                {%- set cutoff = row[0] -%}
                {{ log(this.identifier ~ ": reprocessing load days " ~ row[0] ~ " to " ~ row[1]
                    ~ " (checked from " ~ check_from ~ ")", info=processing) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    cast('{{ cutoff if cutoff is not none else "1900-01-01" }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
