{#- Are the probabilities right? One row per backtest date × outcome × calibration version ×
    probability decile: the decile's customers, its mean predicted probability and the share
    of them that had the outcome (the reliability table). Each row repeats its date's
    measures: population, positives, base rate, the Brier score, the Brier score of always
    predicting the base rate, the Brier skill (1 - their ratio: above 0 beats the base rate),
    the log loss and the AUC of the probability. Every calibration version is measured on
    every date, with the probabilities of int_outcome_probabilities and the answers of
    int_backtest_population: the same scoring points as fct_score_backtest. Deciles are cut by
    probability, ties broken by customer_key, so they are the same on every engine. -#}
{%- set double = ces_data_type('double') %}
with

probabilities as (

    select * from {{ ref('int_outcome_probabilities') }}
    where point_kind = 'backtest'

),

answers as (

    select * from {{ ref('int_backtest_population') }}
    where is_version_in_force

),

answered as (

    -- the dates whose horizon has been observed (int_backtest_population has no others)
    select
        answers.backtest_date,
        answers.outcome,
        answers.horizon_days,
        answers.customer_key,
        answers.is_positive,
        probabilities.calibration_version,
        probabilities.is_calibration_in_force,
        cast(probabilities.probability as {{ double }}) as probability,
        case when answers.is_positive then 1.0 else 0.0 end as observed

    from answers
    inner join probabilities
        on
            answers.backtest_date = probabilities.scoring_date
            and answers.outcome = probabilities.outcome
            and answers.customer_key = probabilities.customer_key

),

ranked as (

    select
        *,
        ntile(10) over (
            partition by backtest_date, outcome, calibration_version
            order by probability, customer_key
        ) as probability_decile,
        {{ ces_average_rank('backtest_date, outcome, calibration_version', 'probability') }} as average_rank

    from answered

),

dated as (

    -- per date, outcome and version; the log loss clips p to [1e-6, 1 - 1e-6] (probabilities
    -- are stored to 6 decimals, so 0 and 1 occur)
    select
        backtest_date,
        outcome,
        calibration_version,
        count(*) as population,
        sum(case when is_positive then 1 else 0 end) as positives,
        sum(case when is_positive then average_rank else 0 end) as positive_rank_sum,
        avg((probability - observed) * (probability - observed)) as brier_score,
        -avg(
            observed * ln(least(greatest(probability, 0.000001), 0.999999))
            + (1 - observed) * ln(1 - least(greatest(probability, 0.000001), 0.999999))
        ) as log_loss

    from ranked
    group by backtest_date, outcome, calibration_version

),

deciles as (

    select
        backtest_date,
        outcome,
        calibration_version,
        is_calibration_in_force,
        horizon_days,
        probability_decile,
        count(*) as customers,
        avg(probability) as mean_predicted_probability,
        -- a share over a wide decimal: Spark's avg of a decimal keeps only 4 more decimals
        {{ ces_share('is_positive') }} as observed_rate

    from ranked
    group by
        backtest_date, outcome, calibration_version, is_calibration_in_force, horizon_days, probability_decile

),

measured as (

    select
        dated.*,
        cast(dated.positives as {{ double }}) / dated.population as base_rate

    from dated

),

final as (

    select
        deciles.backtest_date,
        deciles.outcome,
        deciles.calibration_version,
        deciles.is_calibration_in_force,
        cast(deciles.horizon_days as integer) as horizon_days,
        cast(deciles.probability_decile as integer) as probability_decile,
        cast(deciles.customers as bigint) as customers,
        {{ ces_decimal('deciles.mean_predicted_probability', 9, 6) }} as mean_predicted_probability,
        {{ ces_decimal('deciles.observed_rate', 9, 6) }} as observed_rate,
        cast(measured.population as bigint) as population,
        cast(measured.positives as bigint) as positives,
        {{ ces_decimal('measured.base_rate', 9, 6) }} as base_rate,
        {{ ces_decimal('measured.brier_score', 9, 6) }} as brier_score,
        {{ ces_decimal('measured.base_rate * (1 - measured.base_rate)', 9, 6) }} as base_rate_brier_score,
        {{ ces_decimal(
            'case when measured.base_rate > 0 and measured.base_rate < 1 then'
            ~ ' 1 - measured.brier_score / (measured.base_rate * (1 - measured.base_rate)) end', 12, 6
        ) }} as brier_skill,
        {{ ces_decimal('measured.log_loss', 12, 6) }} as log_loss,
        {{ ces_decimal(
            ces_rank_auc('measured.positive_rank_sum', 'measured.positives', 'measured.population'), 9, 6
        ) }} as auc

    from deciles
    inner join measured
        on
            deciles.backtest_date = measured.backtest_date
            and deciles.outcome = measured.outcome
            and deciles.calibration_version = measured.calibration_version

)

select * from final
