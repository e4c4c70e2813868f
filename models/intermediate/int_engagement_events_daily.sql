{#- The incremental, deduplicated event layer, compacted to counts.

    One row per (source, load day, event day, customer, event type, status, reason).
    Every raw delivery lands in exactly one row's event_count:
      quarantined   a delivery with a defect (reason: the defect), judged on its own;
      scored        the first-loaded valid copy of an event;
      deduplicated  a later valid copy of an event already counted (reason: exact or
                    conflicting re-delivery).
    Quarantine comes first: a defective copy never blocks or replaces a valid one, and every
    quarantined delivery is a row of fct_quarantined_events.

    Incremental runs recompute whole load days from the earliest day whose delivery count in
    int_engagement_events_unioned changed, each source checked within var('ces_lookback_days')
    of its own newest load day processed (ces_reprocess_from). A key seen in an earlier load day is
    looked up in the int_engagement_events_unioned table, so a re-delivery in a later load
    counts once. Events are placed by the day they were *loaded*, so an event that occurred
    long ago but is loaded now is still counted: there is no lateness cut-off on occurred_at. -#}
{{ config(**ces_incremental_config('loaded_date')) }}

{#- The batch (all deliveries, or on an incremental run the reprocessed load days) is read from
    the table in each CTE that needs it, never through one shared CTE: engines materialise a
    CTE used twice (DuckDB does), and at 100M events writing and re-reading that copy cost
    more than the whole hand-written query. Only small CTEs (repeated keys, earlier copies,
    ranked copies) are referenced twice. -#}
{%- if is_incremental() %}
    {%- set unioned = {} %}
    {%- for name in ces_event_sources() %}
        {%- do unioned.update({name: ref('int_engagement_events_unioned')}) %}
    {%- endfor %}
    {%- set reprocess = ces_reprocess_plan(
        unioned, processed_count='sum(event_count)', source_column='event_source',
        date_column='loaded_date'
    ) %}
    {%- set reprocess_from = reprocess['reprocess_from'] %}
{%- endif %}
{#- A few load days (every source checked from its own watermark): rank every valid delivery of
    the batch with the earlier copies of its key. Otherwise (a full build, or a source not
    processed yet, whose batch may reach back to the first load) rank only the keys that have
    more than one copy: at 100M events, ranking every delivery would sort them all. -#}
{%- set rank_whole_batch = is_incremental() and reprocess['within_lookback'] %}
{%- set batch -%}
    select
        event_source,
        event_id,
        key_hash,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        defect

    from {{ ref('int_engagement_events_unioned') }}
    {% if is_incremental() -%}
        -- the load day too (the same cut: reprocessing starts at midnight), so that where the
        -- table is partitioned by it (Spark) only the reprocessed days' files are read
        where
            loaded_at >= {{ reprocess_from }}
            and loaded_date >= cast({{ reprocess_from }} as date)
    {%- endif %}
{%- endset %}

with

batch_keys as (

    -- grouped on the key's 64-bit hash: a small fixed-width state instead of 100M text keys.
    -- Keys that merely share a hash are sent down the ranking path below, which partitions by
    -- the real (source, event_id), so a collision costs a little work and changes nothing.
    select
        key_hash,
        count(*) as deliveries

    from ({{ batch }}) as batch
    where defect is null
    group by key_hash

),

{% if is_incremental() %}
{#- history rows holding a valid copy of one of this batch's keys (by hash), loaded before the
    reprocessed days -#}
{%- set earlier_history -%}
    from {{ ref('int_engagement_events_unioned') }} as history
    inner join batch_keys
        on history.key_hash = batch_keys.key_hash
    where
        history.loaded_at < {{ reprocess_from }}
        and history.defect is null
{%- endset %}
{%- set row_id = ces_row_id() %}
{%- if row_id %}
earlier_rows as (

    -- this scan covers all of history, so it reads fixed-width columns only; the text of the
    -- few matching rows is fetched by row id below
    select history.{{ row_id }} as history_row
    {{ earlier_history }}

),
{%- endif %}

earlier_copies as (

    -- valid copies of this batch's keys (by hash) that were loaded before the reprocessed
    -- days, with the columns the duplicate check compares.
    select
        history.event_source,
        history.event_id,
        history.key_hash,
        history.customer_key,
        history.event_type,
        history.occurred_at,
        history.loaded_at,
        cast(null as {{ dbt.type_string() }}) as defect

    {% if row_id -%}
        from {{ ref('int_engagement_events_unioned') }} as history
        inner join earlier_rows
            on history.{{ row_id }} = earlier_rows.history_row
    {%- else -%}
        {{ earlier_history }}
    {%- endif %}

),
{% endif %}

{#- Ranking the whole batch reads earlier_copies once. The keys path references it twice (the
    keys that have an earlier copy, and the copies ranked), and Spark, which inlines a CTE at
    every reference, then scans the history twice. -#}
repeated_keys as (

    select key_hash

    from batch_keys
    where deliveries > 1
    {% if is_incremental() and not rank_whole_batch %}
        union
        select distinct key_hash
        from earlier_copies
    {% endif %}

),

single_deliveries as (

    -- quarantined deliveries, and (keys path) valid ones whose key has no other valid copy
    select batch.*

    from ({{ batch }}) as batch
    {% if rank_whole_batch -%}
        where batch.defect is not null
    {%- else -%}
        left join repeated_keys
            on
                batch.key_hash = repeated_keys.key_hash
                and batch.defect is null
        where repeated_keys.key_hash is null
    {%- endif %}

),

repeated_deliveries as (

    select
        batch.*,
        true as in_batch

    from ({{ batch }}) as batch
    {% if rank_whole_batch -%}
        where batch.defect is null
    {%- else -%}
        inner join repeated_keys
            on batch.key_hash = repeated_keys.key_hash
        where batch.defect is null
    {%- endif %}
    {% if is_incremental() %}
        union all
        select
            *,
            false as in_batch
        from earlier_copies
    {% endif %}

),

ranked as (

    -- the earliest-loaded copy wins; ties are broken on content so the choice is stable. Each
    -- copy carries the winner's content from the same window, not from a join of this CTE
    -- with itself: Spark inlines a CTE at every reference, and each reference re-read the
    -- whole history for the earlier copies (a tie on every ordered column means the same
    -- content, so it does not matter which tied copy is first)
    select
        *,
        row_number() over copies as delivery_rank,
        first_value(customer_key) over copies as first_customer_key,
        first_value(event_type) over copies as first_event_type,
        first_value(occurred_at) over copies as first_occurred_at

    from repeated_deliveries
    window copies as (
        partition by event_source, event_id
        order by loaded_at, occurred_at, event_type, customer_key
    )

),

classified as (

    select
        event_source,
        loaded_at,
        occurred_at,
        customer_key,
        event_type,
        case when defect is null then 'scored' else 'quarantined' end as record_status,
        defect as status_reason

    from single_deliveries

    union all

    select
        ranked.event_source,
        ranked.loaded_at,
        ranked.occurred_at,
        ranked.customer_key,
        ranked.event_type,
        case
            when ranked.delivery_rank > 1 then 'deduplicated'
            else 'scored'
        end as record_status,
        case
            when ranked.delivery_rank = 1 then cast(null as {{ dbt.type_string() }})
            when
                {{ ces_null_safe_equal('ranked.customer_key', 'ranked.first_customer_key') }}
                and {{ ces_null_safe_equal('ranked.event_type', 'ranked.first_event_type') }}
                and {{ ces_null_safe_equal('ranked.occurred_at', 'ranked.first_occurred_at') }}
                then 'exact_redelivery'
            else 'conflicting_redelivery'
        end as status_reason

    from ranked
    where ranked.in_batch

),

counted as (

    select
        event_source,
        cast(loaded_at as date) as loaded_date,
        cast(occurred_at as date) as event_date,
        customer_key,
        event_type,
        record_status,
        status_reason,
        count(*) as event_count

    from classified
    group by
        event_source,
        cast(loaded_at as date),
        cast(occurred_at as date),
        customer_key,
        event_type,
        record_status,
        status_reason

)

select * from counted
{{ ces_one_file_per_partition() }}
