with

source as (

    select * from {{ ref('ces_event_weights') }}

),

renamed as (

    select
        trim(weights_version) as weights_version,
        cast(effective_from as date) as effective_from,
        {{ ces_snake_case('event_type') }} as event_type,
        {{ ces_try_cast('weight', 'decimal(12, 4)') }} as weight,
        description

    from source

)

select * from renamed
