{#- One row: the as-of date D of the marts (var ces_as_of_date, else the date of the latest
    scored event, today when there is none) and the bounds of the event history that the
    month spine, the backtest dates and the backtest labels start or stop at. The one scan of
    the event layer for dates: its readers take them from here. -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

history as (

    select
        min(case when record_status = 'scored' then event_date end) as first_scored_date,
        max(case when record_status = 'scored' then event_date end) as last_scored_date,
        max(loaded_date) as last_loaded_date

    from daily_events

),

final as (

    select
        {% if var('ces_as_of_date') -%}
            cast('{{ var("ces_as_of_date") }}' as date)
        {%- else -%}
            coalesce(last_scored_date, current_date)
        {%- endif %} as as_of_date,
        first_scored_date,
        last_loaded_date

    from history

)

select * from final
