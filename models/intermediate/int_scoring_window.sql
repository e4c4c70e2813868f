{#- One row: the as-of date D, the scoring window ending at D, and the weights version in
    force at D (latest effective_from on or before D). -#}
with

daily_events as (

    select * from {{ ref('int_engagement_events_daily') }}

),

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

as_of as (

    select
        {% if var('ces_as_of_date') -%}
            cast('{{ var("ces_as_of_date") }}' as date)
        {%- else -%}
            coalesce(max(event_date), current_date)
        {%- endif %} as as_of_date

    from daily_events
    where record_status = 'scored'

),

versions as (

    select distinct
        weights_version,
        effective_from

    from weights

),

versions_in_force as (

    select
        as_of.as_of_date,
        versions.weights_version,
        versions.effective_from,
        row_number() over (order by versions.effective_from desc) as version_rank

    from as_of
    left join versions
        on as_of.as_of_date >= versions.effective_from

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

    from versions_in_force
    where version_rank = 1

)

select * from scoring_window
