{#- n_{c,t} and w_t · n_{c,t} per customer key and event type, for the scoring window and for
    the window of the same length just before it, both weighted with the version in force at
    the as-of date (so a change between them reflects behaviour, not weights), and with the
    weight that applies to the customer's segment (its override, else the default). An
    unweighted type gets weight null and contribution 0. -#}
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

    select * from {{ ref('int_event_weights_resolved') }}

),

in_windows as (

    select
        daily_events.customer_key,
        daily_events.event_type,
        sum(
            case
                when daily_events.event_date >= scoring_window.window_start
                    then daily_events.event_count
                else 0
            end
        ) as event_count,
        sum(
            case
                when daily_events.event_date <= scoring_window.previous_window_end
                    then daily_events.event_count
                else 0
            end
        ) as previous_event_count

    from daily_events
    inner join scoring_window
        on
            daily_events.event_date >= scoring_window.previous_window_start
            and daily_events.event_date <= scoring_window.window_end
    where daily_events.record_status = 'scored'
    group by daily_events.customer_key, daily_events.event_type

),

weighted as (

    select
        in_windows.customer_key,
        customers.segment,
        in_windows.event_type,
        in_windows.event_count,
        in_windows.previous_event_count,
        scoring_window.weights_version,
        weights.weight,
        -- typed explicitly, so every engine keeps the same scale (PostgreSQL's numeric has none)
        cast(coalesce(weights.weight, 0) * in_windows.event_count as decimal(18, 4)) as contribution,
        cast(coalesce(weights.weight, 0) * in_windows.previous_event_count as decimal(18, 4))
            as previous_contribution,
        -- an unweighted type (weight null, adds 0) has no override either: the default applies
        coalesce(weights.weight_source, 'default') as weight_source

    from in_windows
    cross join scoring_window
    left join customers
        on in_windows.customer_key = customers.customer_key
    left join weights
        on
            scoring_window.weights_version = weights.weights_version
            and {{ ces_null_safe_equal('customers.segment', 'weights.segment') }}
            and in_windows.event_type = weights.event_type

)

select * from weighted
