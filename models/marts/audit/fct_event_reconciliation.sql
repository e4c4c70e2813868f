{#- Where every raw row went, per source: one row per (source, outcome, reason).

    raw rows = scored_in_window + scored_outside_window + unknown_customer + deduplicated
               + quarantined
    A singular test checks the equality against the raw tables themselves. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

weights as (

    -- a type is weighted when the version has a default for it (every override has one)
    select * from {{ ref('stg_weights__event_weights') }}
    where segment is null

),

joined as (

    select
        daily_events.event_source,
        daily_events.event_count,
        daily_events.record_status,
        daily_events.status_reason,
        customers.customer_key is not null as is_known_customer,
        daily_events.event_date
        between scoring_window.window_start and scoring_window.window_end as is_in_window,
        weights.event_type is not null as is_weighted

    from daily_events
    cross join scoring_window
    left join customers
        on daily_events.customer_key = customers.customer_key
    left join weights
        on
            scoring_window.weights_version = weights.weights_version
            and daily_events.event_type = weights.event_type

),

classified as (

    select
        event_source,
        event_count,
        case
            when record_status <> 'scored' then record_status
            when not is_known_customer then 'unknown_customer'
            when is_in_window then 'scored_in_window'
            else 'scored_outside_window'
        end as outcome,
        case
            when record_status <> 'scored' then status_reason
            when not is_known_customer then 'unknown_customer'
            when is_in_window and not is_weighted then 'unmapped_event_type'
        end as reason

    from joined

),

reconciled as (

    select
        event_source,
        outcome,
        reason,
        cast(sum(event_count) as bigint) as event_count

    from classified
    group by event_source, outcome, reason

)

select * from reconciled
