{#- n_{c,t} per scoring point, customer key and event type: scored events that occurred in the
    window ending at the point's date, and in the window of the same length just before it,
    among those loaded by the point's known_through day (all for the as-of point). Read from
    the compact daily event layer, never from raw. A scored row is the first-loaded copy of
    its event, so "loaded by D" keeps exactly the copies the warehouse had counted on D. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

points as (

    select * from {{ ref('int_scoring_points') }}

),

counted as (

    select
        points.point_id,
        daily_events.customer_key,
        daily_events.event_type,
        sum(
            case
                when daily_events.event_date >= points.window_start
                    then daily_events.event_count
                else 0
            end
        ) as event_count,
        sum(
            case
                when daily_events.event_date <= points.previous_window_end
                    then daily_events.event_count
                else 0
            end
        ) as previous_event_count

    from daily_events
    inner join points
        on
            daily_events.event_date >= points.previous_window_start
            and daily_events.event_date <= points.window_end
            and (points.known_through is null or daily_events.loaded_date <= points.known_through)
    where daily_events.record_status = 'scored'
    group by points.point_id, daily_events.customer_key, daily_events.event_type

)

select * from counted
