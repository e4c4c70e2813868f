{#- One row per calendar month from the first month with a scored event to the month of the
    as-of date (a portable month spine: up to 1,000 months, no engine-specific series). -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

offsets as (

    select ones.digit + 10 * tens.digit + 100 * hundreds.digit as month_offset

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'first_scored_date') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as last_month

    from as_of
    where first_scored_date <= as_of_date

),

months as (

    select
        cast({{ dbt.dateadd('month', 'offsets.month_offset', 'bounds.first_month') }} as date)
            as month_start

    from bounds
    cross join offsets
    where
        cast({{ dbt.dateadd('month', 'offsets.month_offset', 'bounds.first_month') }} as date)
        <= bounds.last_month

),

final as (

    select
        month_start,
        cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end

    from months

)

select * from final
