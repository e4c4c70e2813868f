{#- Recency and breadth per scoring point and customer key: the last scored event on or before
    the point's date, the days with a scored event in its window, and how many product event
    types (features; support tickets excluded) were used in the window, among the events
    loaded by the point's known_through day. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

points as (

    select * from {{ ref('int_scoring_points') }}

),

activity as (

    select
        points.point_id,
        daily_events.customer_key,
        max(daily_events.event_date) as last_event_date,
        count(
            distinct case
                when daily_events.event_date >= points.window_start
                    then daily_events.event_date
            end
        ) as active_days,
        count(
            distinct case
                when
                    daily_events.event_date >= points.window_start
                    and daily_events.event_source = 'product'
                    then daily_events.event_type
            end
        ) as distinct_event_types

    from daily_events
    inner join points
        on
            daily_events.event_date <= points.window_end
            and (points.known_through is null or daily_events.loaded_date <= points.known_through)
    where daily_events.record_status = 'scored'
    group by points.point_id, daily_events.customer_key

)

select * from activity
