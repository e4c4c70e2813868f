{#- Event names are normalised in stg_product__event_names (one row per distinct name) and
    joined here. -#}
with

source as (

    select * from {{ source('product', 'product_events') }}

),

event_names as (

    select * from {{ ref('stg_product__event_names') }}

),

renamed as (

    select
        'product' as event_source,
        nullif(trim(source.event_id), '') as event_id,
        nullif(trim(source.customer_id), '') as customer_id,
        lower(nullif(trim(source.customer_id), '')) as customer_key,
        nullif(trim(source.user_id), '') as user_id,
        event_names.event_type,
        source.event_id as raw_event_id,
        source.customer_id as raw_customer_id,
        source.event_name as raw_event_name,
        cast(source.occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(source.loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source
    left join event_names
        on source.event_name = event_names.raw_event_name

)

select * from renamed
