{#- n_{c,t} as the warehouse knew it at the end of each backtest date D: scored events loaded
    on or before D (loaded_date <= D) that occurred in the window ending D, and in the window
    of the same length before it. Read from the compact daily event layer, never from raw.
    A scored row is the first-loaded copy of its event, so "loaded by D" keeps exactly the
    copies the warehouse had counted on D. -#}
{{ config(materialized='table') }}

with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

dates as (

    select * from {{ ref('int_backtest_dates') }}

),

counted as (

    select
        dates.backtest_date,
        daily_events.customer_key,
        daily_events.event_type,
        sum(
            case
                when daily_events.event_date >= dates.window_start
                    then daily_events.event_count
                else 0
            end
        ) as event_count,
        sum(
            case
                when daily_events.event_date <= dates.previous_window_end
                    then daily_events.event_count
                else 0
            end
        ) as previous_event_count

    from daily_events
    inner join dates
        on
            daily_events.event_date >= dates.previous_window_start
            and daily_events.event_date <= dates.backtest_date
            and daily_events.loaded_date <= dates.backtest_date
    where daily_events.record_status = 'scored'
    group by dates.backtest_date, daily_events.customer_key, daily_events.event_type

)

select * from counted
