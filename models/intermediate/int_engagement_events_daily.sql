{#- The incremental, deduplicated event layer, compacted to counts.

    One row per (source, load day, event day, customer, event type, status, reason).
    Every raw delivery lands in exactly one row's event_count:
      quarantined   a delivery with a defect (reason: the defect), judged on its own;
      scored        the first-loaded valid copy of an event;
      deduplicated  a later valid copy of an event already counted (reason: exact or
                    conflicting re-delivery).
    Quarantine comes first: a defective copy never blocks or replaces a valid one, and every
    quarantined delivery is a row of quarantined_events.

    Incremental runs recompute whole load days from var('ces_lookback_days') before the newest
    load day already processed. A key seen in an earlier load day is looked up in the
    int_engagement_events_unioned table, so a re-delivery in a later load counts once. Events
    are placed by the day they were *loaded*, so an event that occurred long ago but is loaded
    now is still counted: there is no lateness cut-off on occurred_at. -#}
{{ config(**ces_incremental_config('loaded_date')) }}

{#- int_engagement_events_unioned is referenced directly in `batch` and `earlier_copies`, not
    through one shared CTE: engines materialise a CTE used twice (DuckDB does), which would
    compute every historical row before the load-date filter could skip any. -#}
with

batch as (

    select
        event_source,
        event_id,
        customer_key,
        event_type,
        occurred_at,
        loaded_at,
        defect

    from {{ ref('int_engagement_events_unioned') }}
    {% if is_incremental() %}
        where loaded_at >= {{ ces_reprocess_from() }}
    {% endif %}

),

batch_keys as (

    select
        event_source,
        event_id,
        count(*) as deliveries

    from batch
    where defect is null
    group by event_source, event_id

),

{% if is_incremental() %}
earlier_copies as (

    -- valid copies of this batch's keys that were loaded before the reprocessed days. Only
    -- the columns the duplicate check compares are read: this scan covers all of history.
    select
        history.event_source,
        history.event_id,
        history.customer_key,
        history.event_type,
        history.occurred_at,
        history.loaded_at,
        cast(null as {{ dbt.type_string() }}) as defect

    from {{ ref('int_engagement_events_unioned') }} as history
    inner join batch_keys
        on
            history.event_source = batch_keys.event_source
            and history.event_id = batch_keys.event_id
    where
        history.loaded_at < {{ ces_reprocess_from() }}
        and history.defect is null

),
{% endif %}

repeated_keys as (

    select
        event_source,
        event_id

    from batch_keys
    where deliveries > 1
    {% if is_incremental() %}
        union
        select distinct
            event_source,
            event_id
        from earlier_copies
    {% endif %}

),

flagged as (

    select
        batch.*,
        batch.defect is null and repeated_keys.event_id is not null as is_repeated

    from batch
    left join repeated_keys
        on
            batch.event_source = repeated_keys.event_source
            and batch.event_id = repeated_keys.event_id

),

repeated_deliveries as (

    select
        *,
        true as in_batch

    from flagged
    where is_repeated
    {% if is_incremental() %}
        union all
        select
            *,
            true as is_repeated,
            false as in_batch
        from earlier_copies
    {% endif %}

),

ranked as (

    -- the earliest-loaded copy wins; ties are broken on content so the choice is stable
    select
        *,
        row_number() over (
            partition by event_source, event_id
            order by loaded_at, occurred_at, event_type, customer_key
        ) as delivery_rank

    from repeated_deliveries

),

first_copies as (

    select
        event_source,
        event_id,
        customer_key,
        event_type,
        occurred_at

    from ranked
    where delivery_rank = 1

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

    from flagged
    where not is_repeated

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
                {{ ces_null_safe_equal('ranked.customer_key', 'first_copies.customer_key') }}
                and {{ ces_null_safe_equal('ranked.event_type', 'first_copies.event_type') }}
                and {{ ces_null_safe_equal('ranked.occurred_at', 'first_copies.occurred_at') }}
                then 'exact_redelivery'
            else 'conflicting_redelivery'
        end as status_reason

    from ranked
    inner join first_copies
        on
            ranked.event_source = first_copies.event_source
            and ranked.event_id = first_copies.event_id
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
