{#- One row per customer: the CRM as the as-of point knows it, the latest row by loaded_at
    (CDC history collapses to now). -#}
with

point_customers as (

    select * from {{ ref('int_point_customers') }}

),

latest as (

    -- every column of int_point_customers, at the as-of point (hence the wildcard)
    select * from point_customers
    where point_id = 'as_of'

)

select * from latest  -- noqa: AM04
