{#- The CRM as each scoring point knew it: per point and customer, the latest row of
    stg_crm__customers by loaded_at, among the rows loaded by the end of the point's
    known_through day (every row for the as-of point). A change loaded later (a conversion, a
    churn, a new segment) does not show at a backtest point, and a customer first loaded later
    is not there yet. -#}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

points as (

    select * from {{ ref('int_scoring_points') }}

),

known as (

    select
        points.point_id,
        customers.customer_key,
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        customers.country,
        customers.created_at,
        customers.loaded_at,
        row_number() over (
            partition by points.point_id, customers.customer_key
            order by customers.loaded_at desc, customers.created_at desc
        ) as recency_rank

    from customers
    inner join points
        on
            points.known_through is null
            or customers.loaded_at
            < cast({{ dbt.dateadd('day', 1, 'points.known_through') }} as {{ dbt.type_timestamp() }})
    where customers.customer_key is not null

),

in_force as (

    select
        point_id,
        customer_key,
        customer_id,
        customer_name,
        segment,
        plan,
        lifecycle_stage,
        country,
        created_at,
        loaded_at

    from known
    where recency_rank = 1

)

select * from in_force
