-- Warns when an override names a segment that no customer has (the latest CRM row decides a
-- customer's segment): most likely a typo, and the override applies to nobody.
{{ config(severity='warn') }}

with

weights as (

    select * from {{ ref('stg_weights__event_weights') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

override_segments as (

    select distinct
        weights_version,
        segment

    from weights
    where segment is not null

),

known_segments as (

    select distinct segment

    from customers

)

select
    override_segments.weights_version,
    override_segments.segment,
    'no customer is in segment ' || override_segments.segment || ', which '
    || override_segments.weights_version || ' overrides: spell it as the CRM does '
    || '(fct_customer_engagement.segment), or remove the override' as how_to_fix

from override_segments
left join known_segments
    on override_segments.segment = known_segments.segment
where known_segments.segment is null
