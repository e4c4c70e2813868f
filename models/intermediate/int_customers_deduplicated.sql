{#- One row per customer: the latest CRM row by loaded_at (CDC history collapses to now). -#}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_key
            order by loaded_at desc, created_at desc
        ) as recency_rank

    from customers
    where customer_key is not null

),

latest as (

    select
        customer_id,
        customer_key,
        customer_name,
        segment,
        plan,
        lifecycle_stage,
        country,
        created_at,
        loaded_at

    from ranked
    where recency_rank = 1

)

select * from latest
