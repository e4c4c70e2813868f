{#- The tiers seed, as every model reads it: the thresholds on segment_percentile. -#}
with

tiers as (

    select * from {{ ref(var('ces_engagement_tiers_seed')) }}

),

renamed as (

    select
        min_segment_percentile,
        description,
        trim(engagement_tier) as engagement_tier

    from tiers

)

select * from renamed
