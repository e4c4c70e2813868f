{#- n_{c,t} and w_t · n_{c,t} per customer key and event type, for the scoring window and for
    the window of the same length just before it, both weighted with the version in force at
    the as-of date (so a change between them reflects behaviour, not weights). An unweighted
    type gets weight null and contribution 0. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

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
        in_windows.event_type,
        in_windows.event_count,
        in_windows.previous_event_count,
        scoring_window.weights_version,
        weights.weight,
        coalesce(weights.weight, 0) * in_windows.event_count as contribution,
        coalesce(weights.weight, 0) * in_windows.previous_event_count as previous_contribution

    from in_windows
    cross join scoring_window
    left join weights
        on
            scoring_window.weights_version = weights.weights_version
            and in_windows.event_type = weights.event_type

)

select * from weighted
