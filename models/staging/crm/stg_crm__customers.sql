with

source as (

    select * from {{ source('crm', 'customers') }}

),

renamed as (

    select
        nullif(trim(customer_id), '') as customer_id,
        lower(nullif(trim(customer_id), '')) as customer_key,
        customer_name,
        coalesce(nullif(trim(segment), ''), 'unknown') as segment,
        coalesce(lower(nullif(trim(plan), '')), 'unknown') as plan,
        coalesce(lower(nullif(trim(lifecycle_stage), '')), 'unknown') as lifecycle_stage,
        upper(trim(country)) as country,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed
