{#- First load time an incremental run of the event layer reprocesses.

    Each source keeps its own watermark: the run checks, per source, the load days from
    var('ces_lookback_days') before the newest load day of that source already processed, up
    to now. A source that lags the others (a paused connector catching up with rows stamped
    days ago) is therefore checked from its own newest load, not from the newest load of any
    source, and its late rows are found without a full refresh. A source this model has not
    processed yet is checked from the beginning.

    For each source and day checked it compares how many deliveries the inputs hold with how
    many this model has processed (processed_count over this model's rows of that source and
    day). It reprocesses from the earliest day that differs in any source: a new load, or a
    load that committed late with an older loaded_at. Every later day is reprocessed too, for
    every source, because the model is replaced by whole load days and an earlier copy can turn
    a later delivery into a duplicate. Days that did not change are skipped, so a daily run
    does work in proportion to the new loads, not to the lookback. When nothing changed, the
    returned time lies after every load and the batch is empty.

    inputs:          a dict, event source name (ces_event_sources) -> relation with a loaded_at
                     column, read with a constant filter on it
    processed_count: the expression that counts this model's deliveries per source and
                     loaded_date
    source_column:   when the inputs hold every source in one relation, the column that names
                     the source (each input is then filtered on it)
    date_column:     when the inputs also hold the load day (cast(loaded_at as date)), its
                     column: filtered too, so an input partitioned by it (Spark) reads only the
                     days checked instead of every partition

    The result is looked up when the model runs and written into the SQL as a literal, not left
    as a subquery: with a constant the engine can skip old row groups by their loaded_at
    statistics and knows the batch is small when it plans the joins (at 100M events the
    subquery form made an incremental run cost 72% of a full build). -#}
{% macro ces_reprocess_from(inputs, processed_count='count(*)', source_column=none, date_column=none) -%}
    {{ return(ces_reprocess_plan(inputs, processed_count, source_column, date_column)['reprocess_from']) }}
{%- endmacro %}

{#- ces_reprocess_from's work, with one more answer for the model that reads it: a dict of
      reprocess_from    the literal above;
      within_lookback   true when every source was checked from its own watermark, so the
                        batch holds only the load days since the earliest of them (a few days
                        on a daily run). False when a source had not been processed yet, or the
                        model is empty: the batch may then reach back to the first load. -#}
{% macro ces_reprocess_plan(inputs, processed_count='count(*)', source_column=none, date_column=none) -%}
    {%- set cutoff = none -%}
    {%- set within_lookback = false -%}
    {%- if execute -%}
        {%- set watermarks = ces_lookback_start('loaded_date', per='event_source') -%}
        {%- if not watermarks -%}
            {%- set cutoff = '1900-01-01' -%}
        {%- else -%}
            {#- every source the inputs or this model hold, from its own watermark -#}
            {%- set check_from = {} -%}
            {%- for name in inputs -%}
                {%- do check_from.update({name: watermarks.get(name) or '1900-01-01'}) -%}
            {%- endfor -%}
            {%- for name, start in watermarks.items() if name not in check_from -%}
                {%- do check_from.update({name: start}) -%}
            {%- endfor -%}
            {%- set within_lookback = '1900-01-01' not in check_from.values() -%}
            {%- set changed_days -%}
                with

                incoming as (
                    {%- for name, input in inputs.items() %}
                    select
                        '{{ name }}' as event_source,
                        cast(cast(loaded_at as {{ dbt.type_timestamp() }}) as date) as loaded_date,
                        count(*) as deliveries
                    from {{ input }}
                    where
                        cast(loaded_at as {{ dbt.type_timestamp() }})
                        >= cast('{{ check_from[name] }}' as {{ dbt.type_timestamp() }})
                        {%- if source_column %}
                        and {{ source_column }} = '{{ name }}'
                        {%- endif %}
                        {%- if date_column %}
                        and {{ date_column }} >= cast('{{ check_from[name] }}' as date)
                        {%- endif %}
                    group by cast(cast(loaded_at as {{ dbt.type_timestamp() }}) as date)
                    {%- if not loop.last %}
                    union all
                    {%- endif %}
                    {%- endfor %}
                ),

                processed as (
                    select event_source, loaded_date, {{ processed_count }} as deliveries
                    from {{ this }}
                    where
                        {%- for name, start in check_from.items() %}
                        (event_source = '{{ name }}' and loaded_date >= cast('{{ start }}' as date))
                        {%- if not loop.last %} or{% endif %}
                        {%- endfor %}
                    group by event_source, loaded_date
                )

                select
                    coalesce(incoming.event_source, processed.event_source) as event_source,
                    min(coalesce(incoming.loaded_date, processed.loaded_date)) as first_changed,
                    max(coalesce(incoming.loaded_date, processed.loaded_date)) as last_changed
                from incoming
                full outer join processed
                    on
                        incoming.event_source = processed.event_source
                        and incoming.loaded_date = processed.loaded_date
                where coalesce(incoming.deliveries, 0) <> coalesce(processed.deliveries, 0)
                group by coalesce(incoming.event_source, processed.event_source)
            {%- endset -%}
            {%- set changed = run_query(changed_days).rows -%}
            {#- only a run or build processes anything; compile and docs generate log it to the file only -#}
            {%- set processing = flags.WHICH in ['run', 'build'] -%}
            {%- set checked = [] -%}
            {%- for name, start in check_from.items() -%}
                {%- do checked.append(name ~ ' from ' ~ start) -%}
            {%- endfor -%}
            {%- if changed | length == 0 -%}
                {%- set cutoff = '9999-12-31' -%}
                {{ log(this.identifier ~ ": no load day changed (checked " ~ checked | join(', ')
                    ~ "); nothing to reprocess", info=processing) }}
            {%- else -%}
                {%- set cutoff = changed | map(attribute=1) | min -%}
                {%- set sources = [] -%}
                {%- for row in changed | sort(attribute=0) -%}
                    {%- do sources.append(row[0] ~ ' ' ~ row[1] ~ ' to ' ~ row[2]) -%}
                {%- endfor -%}
                {{ log(this.identifier ~ ": reprocessing load days " ~ cutoff ~ " to "
                    ~ (changed | map(attribute=2) | max) ~ " (changed: " ~ sources | join(', ')
                    ~ "; checked " ~ checked | join(', ') ~ ")", info=processing) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- set reprocess_from -%}
        cast('{{ cutoff if cutoff is not none else "1900-01-01" }}' as {{ dbt.type_timestamp() }})
    {%- endset -%}
    {{ return({'reprocess_from': reprocess_from, 'within_lookback': within_lookback}) }}
{%- endmacro %}
