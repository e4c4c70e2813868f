{#- The calibration seed (seeds/ces_calibration.csv), typed: one row per calibration version,
    outcome and term. A term is intercept (with an empty segment: the outcome's intercept;
    with a segment: that segment's shift of it) or a feature of macro ces_outcome_features.
    int_outcome_probabilities applies it. -#}
with

source as (

    select * from {{ ref(var('ces_calibration_seed')) }}

),

renamed as (

    select
        trim(calibration_version) as calibration_version,
        cast(effective_from as date) as effective_from,
        trim(outcome) as outcome,
        trim(term) as term,
        nullif(trim(segment), '') as segment,
        {{ ces_try_cast('coefficient', 'decimal(18, 8)') }} as coefficient,
        description

    from source

)

select * from renamed
