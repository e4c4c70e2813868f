{#- The probability that each outcome occurs within its horizon, per scoring point, customer
    of the outcome's population and calibration version of the seed (every version at every
    point, as the weights versions are; is_calibration_in_force marks the version whose
    effective_from is the latest on or before D, is_calibration_current the one in force at the
    as-of date). The logistic model of the seed:
        log-odds = intercept + the shift of the customer's segment (if the seed has one)
                   + Σ coefficient · feature_<term>
        probability = 1 / (1 + exp(-log-odds))
    The log-odds are clipped to ±30 (a probability within 1e-13 of 0 or 1) so exp cannot
    overflow on any engine. -#}
{%- set double = ces_data_type('double') %}
with

features as (

    select * from {{ ref('int_outcome_features') }}

),

terms as (

    select * from {{ ref('stg_seeds__calibration') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

versions as (

    -- each outcome's calibration versions, in force from effective_from until the next one's
    select
        outcome,
        calibration_version,
        effective_from,
        lead(effective_from) over (partition by outcome order by effective_from) as effective_until

    from (
        select distinct
            outcome,
            calibration_version,
            effective_from
        from terms
    ) as distinct_versions

),

coefficients as (

    -- one row per outcome and version: its intercept and one coefficient per feature (0 when
    -- the seed has no row for the feature)
    select
        outcome,
        calibration_version,
        sum(
            case when term = 'intercept' and segment is null then cast(coefficient as {{ double }}) else 0 end
        ) as intercept,
        {{ ces_outcome_coefficient_columns() }}

    from terms
    group by outcome, calibration_version

),

segment_shifts as (

    select
        outcome,
        calibration_version,
        segment,
        sum(cast(coefficient as {{ double }})) as intercept_shift

    from terms
    where term = 'intercept' and segment is not null
    group by outcome, calibration_version, segment

),

combined as (

    select
        features.point_id,
        features.point_kind,
        features.scoring_date,
        features.outcome,
        features.horizon_days,
        features.customer_key,
        features.customer_id,
        features.segment,
        {{ ces_outcome_feature_names('features') }},
        versions.calibration_version,
        versions.effective_from as calibration_effective_from,
        coalesce(
            features.scoring_date >= versions.effective_from
            and (versions.effective_until is null or features.scoring_date < versions.effective_until),
            false
        ) as is_calibration_in_force,
        -- the version in force at the as-of date: the one the mart applies, whatever the point
        coalesce(
            as_of.as_of_date >= versions.effective_from
            and (versions.effective_until is null or as_of.as_of_date < versions.effective_until),
            false
        ) as is_calibration_current,
        coefficients.intercept
        + coalesce(segment_shifts.intercept_shift, 0)
        + {{ ces_outcome_linear_sum('coefficients', 'features') }} as log_odds

    from features
    cross join as_of
    inner join versions
        on features.outcome = versions.outcome
    inner join coefficients
        on
            versions.outcome = coefficients.outcome
            and versions.calibration_version = coefficients.calibration_version
    left join segment_shifts
        on
            versions.outcome = segment_shifts.outcome
            and versions.calibration_version = segment_shifts.calibration_version
            and features.segment = segment_shifts.segment

),

final as (

    select
        *,
        {{ ces_decimal('1.0 / (1.0 + exp(-least(greatest(log_odds, -30.0), 30.0)))', 9, 6) }} as probability

    from combined

)

select * from final
