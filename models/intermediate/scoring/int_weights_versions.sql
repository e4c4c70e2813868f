{#- One row per weights version with the dates it is in force: from effective_from up to the
    next version's effective_from (exclusive; null for the latest). "The version in force at
    day d" is then a range join, written the same way everywhere. -#}
with

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

versions as (

    select distinct
        weights_version,
        effective_from

    from weights

),

ranged as (

    select
        weights_version,
        effective_from,
        lead(effective_from) over (order by effective_from) as effective_until

    from versions

)

select * from ranged
