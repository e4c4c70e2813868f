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
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
        ticket_id as raw_ticket_id,
        customer_id as raw_customer_id,
        priority as raw_priority

    from source

)

select * from renamed
