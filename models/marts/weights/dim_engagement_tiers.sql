{#- The tiers of the tiers seed, ordered: what a BI tool or the dashboard needs to sort tiers
    and to place a what-if score in one (a customer is in the highest tier whose threshold its
    segment percentile reaches; dormant has no threshold: no scored event in the window). -#}
with

tiers as (

    select * from {{ ref('stg_seeds__engagement_tiers') }}

),

ordered as (

    select
        cast(engagement_tier as {{ dbt.type_string() }}) as engagement_tier,
        cast(min_segment_percentile as decimal(5, 2)) as min_segment_percentile,
        cast(
            row_number() over (order by coalesce(min_segment_percentile, -1)) as integer
        ) as tier_level,
        cast(description as {{ dbt.type_string() }}) as description

    from tiers

)

select * from ordered
