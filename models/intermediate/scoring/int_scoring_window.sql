{#- The marts' scoring point as one row: the as-of date D, the window [D − ces_window_days + 1,
    D], the previous window, and the weights version in force at D. -#}
with

points as (

    select * from {{ ref('int_scoring_points') }}

),

as_of_point as (

    select
        scoring_date as as_of_date,
        window_start,
        window_end,
        previous_window_start,
        previous_window_end,
        weights_version,
        weights_effective_from

    from points
    where point_kind = 'as_of'

)

select * from as_of_point
