with

source as (

    select * from {{ source('support', 'support_tickets') }}

),

renamed as (

    select
        'support' as event_source,
        nullif(trim(ticket_id), '') as ticket_id,
        nullif(trim(customer_id), '') as customer_id,
        lower(nullif(trim(customer_id), '')) as customer_key,
        lower(trim(priority)) as priority,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed
