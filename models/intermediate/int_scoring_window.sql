{#- One row: the as-of date D, the scoring window ending at D, and the weights version in
    force at D (latest effective_from on or before D). -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

as_of as (

    {% if var('ces_as_of_date') -%}
        select cast('{{ var("ces_as_of_date") }}' as date) as as_of_date
    {%- else -%}
        select coalesce(max(event_date), current_date) as as_of_date
        from daily_events
        where record_status = 'scored'
    {%- endif %}

),

version_in_force as (

    select
        as_of.as_of_date,
        versions.weights_version,
        versions.effective_from

    from as_of
    left join versions
        on
            as_of.as_of_date >= versions.effective_from
            and (versions.effective_until is null or as_of.as_of_date < versions.effective_until)

),

scoring_window as (

    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1 - var('ces_window_days') | int, 'as_of_date') }} as date)
            as window_start,
        as_of_date as window_end,
        cast({{ dbt.dateadd('day', 1 - 2 * var('ces_window_days') | int, 'as_of_date') }} as date)
            as previous_window_start,
        cast({{ dbt.dateadd('day', -1 * var('ces_window_days') | int, 'as_of_date') }} as date)
            as previous_window_end,
        weights_version,
        effective_from as weights_effective_from

    from version_in_force

)

select * from scoring_window
