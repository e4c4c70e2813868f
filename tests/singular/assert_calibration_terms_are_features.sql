-- Fails with each calibration row whose term is neither intercept nor a feature of macro
-- ces_outcome_features (the probability would silently leave it out), and with each feature
-- row that names a segment (only the intercept is shifted by segment).
{%- set terms = ['intercept'] + (ces_outcome_features() | list) %}

with

calibration as (

    select * from {{ ref('stg_seeds__calibration') }}

)

select
    calibration_version,
    outcome,
    term,
    segment,
    case
        when term not in ('{{ terms | join("', '") }}')
            then 'term ' || term || ' is unknown: use one of {{ terms | join(", ") }}'
        else 'only an intercept row may name a segment: empty the segment of term ' || term
    end as how_to_fix

from calibration
where
    term not in ('{{ terms | join("', '") }}')
    or (term <> 'intercept' and segment is not null)
