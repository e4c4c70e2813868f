{#- The CRM as it stood at the end of each backtest date D: per customer, the latest row of
    stg_crm__customers loaded before D + 1 day. A change loaded later (a conversion, a churn,
    a new segment) does not show at D, and a customer first loaded later is not there yet. -#}
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

dates as (

    select * from {{ ref('int_backtest_dates') }}

),

known as (

    select
        dates.backtest_date,
        customers.customer_key,
        customers.customer_id,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        row_number() over (
            partition by dates.backtest_date, customers.customer_key
            order by customers.loaded_at desc, customers.created_at desc
        ) as recency_rank

    from customers
    inner join dates
        on
            customers.loaded_at
            < cast({{ dbt.dateadd('day', 1, 'dates.backtest_date') }} as {{ dbt.type_timestamp() }})
    where customers.customer_key is not null

),

in_force as (

    select
        backtest_date,
        customer_key,
        customer_id,
        segment,
        plan,
        lifecycle_stage

    from known
    where recency_rank = 1

)

select * from in_force
