{#- The weights seed, typed. The segment column is optional: a seed without it (every row a
    default, as before segments existed) builds unchanged, because the column is looked up in
    the loaded seed and, when absent, every row gets segment null. -#}
{%- set seed_columns = adapter.get_columns_in_relation(ref(var('ces_event_weights_seed')))
                       | map(attribute='name') | map('lower') | list if execute else [] %}

with

source as (

    select * from {{ ref(var('ces_event_weights_seed')) }}

),

renamed as (

    select
        trim(weights_version) as weights_version,
        cast(effective_from as date) as effective_from,
        {% if 'segment' in seed_columns -%}
            nullif(trim(segment), '') as segment,
        {%- else -%}
            cast(null as {{ dbt.type_string() }}) as segment,
        {%- endif %}
        {{ ces_snake_case('event_type') }} as event_type,
        {{ ces_try_cast('weight', 'decimal(12, 4)') }} as weight,
        description

    from source

)

select * from renamed
