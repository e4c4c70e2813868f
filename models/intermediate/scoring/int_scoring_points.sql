{#- The scoring points: one row per (score date D, known through K). Every score, percentile,
    tier and flag is computed for every point by the same models (int_point_*), and each mart
    selects its points:
      - the as-of point (point_id 'as_of'): D is the as-of date and K is null, everything
        loaded: the CRM's latest row and every scored event. The customer marts read it;
      - a backtest point (point_id 'backtest:<D>'): a date of int_backtest_dates as the
        warehouse knew it at the end of that day (K = D): events with loaded_date <= D and the
        CRM row loaded by then. The backtest marts read them.
    Each point has the window ending D, the window of the same length just before it, and the
    weights version in force at D (the latest effective_from on or before D). -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

backtest_dates as (

    select * from {{ ref('int_backtest_dates') }}

),

versions as (

    select * from {{ ref('int_weights_versions') }}

),

points as (

    select
        'as_of' as point_id,
        'as_of' as point_kind,
        as_of_date as scoring_date,
        cast(null as date) as known_through

    from as_of

    union all

    select
        {{ dbt.concat(["'backtest:'", "cast(backtest_date as " ~ dbt.type_string() ~ ")"]) }} as point_id,
        'backtest' as point_kind,
        backtest_date as scoring_date,
        backtest_date as known_through

    from backtest_dates

),

windowed as (

    select
        points.point_id,
        points.point_kind,
        points.scoring_date,
        points.known_through,
        cast({{ dbt.dateadd('day', 1 - var('ces_window_days') | int, 'points.scoring_date') }} as date)
            as window_start,
        points.scoring_date as window_end,
        cast({{ dbt.dateadd('day', 1 - 2 * var('ces_window_days') | int, 'points.scoring_date') }} as date)
            as previous_window_start,
        cast({{ dbt.dateadd('day', -1 * var('ces_window_days') | int, 'points.scoring_date') }} as date)
            as previous_window_end,
        versions.weights_version,
        versions.effective_from as weights_effective_from

    from points
    left join versions
        on
            points.scoring_date >= versions.effective_from
            and (versions.effective_until is null or points.scoring_date < versions.effective_until)

)

select * from windowed
