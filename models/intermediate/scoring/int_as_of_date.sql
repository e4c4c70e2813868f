{#- One row: the as-of date D of the marts, var ces_as_of_date, else the date of the latest
    scored event (today when there is none). -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

as_of as (

    {% if var('ces_as_of_date') -%}
        select cast('{{ var("ces_as_of_date") }}' as date) as as_of_date
    {%- else -%}
        select coalesce(max(event_date), current_date) as as_of_date
        from daily_events
        where record_status = 'scored'
    {%- endif %}

)

select * from as_of
