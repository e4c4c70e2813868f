{#- raw.customer_outcomes is optional: without it this view has no rows (ces_optional_source),
    and the backtest marts build empty. -#}
with

source as (

    {{ ces_optional_source('crm', 'customer_outcomes', {
        'customer_id': 'varchar', 'outcome': 'varchar',
        'occurred_at': 'timestamp', 'loaded_at': 'timestamp'
    }) }}

),

renamed as (

    select
        nullif(trim(customer_id), '') as customer_id,
        lower(nullif(trim(customer_id), '')) as customer_key,
        lower(nullif(trim(outcome), '')) as outcome,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed
