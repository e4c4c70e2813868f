with

source as (

    select * from {{ source('product', 'product_events') }}

),

renamed as (

    select
        'product' as event_source,
        nullif(trim(event_id), '') as event_id,
        nullif(trim(customer_id), '') as customer_id,
        lower(nullif(trim(customer_id), '')) as customer_key,
        nullif(trim(user_id), '') as user_id,
        {{ ces_snake_case('event_name') }} as event_type,
        event_name as raw_event_name,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed
