{#- One reason per raised flag, in plain words. By its rule: what the rule saw. By
    probability: "churn probability 34% within 30 days". -#}
{%- set text = dbt.type_string() -%}
{%- set rule_reasons = {
    'is_trial_conversion_candidate': [['is_trial_conversion_candidate', dbt.concat([
        "'trial active on '", "cast(active_days as " ~ text ~ ")",
        "' days using '", "cast(distinct_event_types as " ~ text ~ ")", "' features'"
    ])]],
    'is_churn_risk': [
        ['is_churn_risk and engagement_change_pct <= -' ~ var('ces_churn_drop_pct'), dbt.concat([
            "'score fell '", "cast(cast(round(-engagement_change_pct) as integer) as " ~ text ~ ")",
            "'% vs previous " ~ var('ces_window_days') ~ " days'"
        ])],
        ['is_churn_risk and coalesce(days_since_last_event, 9999) >= ' ~ var('ces_churn_inactive_days'),
         "coalesce(" ~ dbt.concat([
            "'no activity for '", "cast(days_since_last_event as " ~ text ~ ")", "' days'"
        ]) ~ ", 'no scored activity ever')"]
    ],
    'is_upsell_candidate': [['is_upsell_candidate', dbt.concat([
        "'on the '", "plan", "' plan but in the top '",
        "cast(cast(100 - floor(segment_percentile) as integer) as " ~ text ~ ")", "'% of its segment'"
    ])]],
    'needs_training': [['needs_training', dbt.concat([
        "'active on '", "cast(active_days as " ~ text ~ ")",
        "' days but uses only '", "cast(distinct_event_types as " ~ text ~ ")", "' feature(s)'"
    ])]],
} -%}
{%- set reasons = [] -%}
{%- for flag in ces_flag_threshold_vars() -%}
    {%- if ces_flag_definition(flag) == 'probability' -%}
        {%- do reasons.append([flag, dbt.concat([
            "'" ~ ces_flag_probability_vars()[flag]['words'] ~ " probability '",
            "cast(cast(round(" ~ flag ~ "_probability * 100) as integer) as " ~ text ~ ")",
            "'% within '", "cast(" ~ flag ~ "_horizon_days as " ~ text ~ ")", "' days'"
        ])]) -%}
    {%- else -%}
        {%- do reasons.extend(rule_reasons[flag]) -%}
    {%- endif -%}
{%- endfor %}
with

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

scoring_window as (

    select * from {{ ref('int_scoring_window') }}

),

scores as (

    -- the as-of point under the version in force: score, trend, percentile and tier are
    -- computed there, for every point, by one chain
    select * from {{ ref('int_point_scores') }}
    where point_kind = 'as_of' and is_version_in_force

),

flags as (

    -- the flags by their definition (rule or probability), with each outcome's probability
    select * from {{ ref('int_point_flags') }}
    where point_kind = 'as_of' and is_version_in_force

),

flagged as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.segment,
        customers.plan,
        customers.lifecycle_stage,
        scores.engagement_score,
        scores.event_count,
        scores.previous_engagement_score,
        scores.engagement_change_pct,
        scores.segment_percentile,
        scores.engagement_tier,
        scores.days_since_last_event,
        scores.active_days,
        scores.distinct_event_types,
        flags.is_trial_conversion_candidate,
        flags.is_churn_risk,
        flags.is_upsell_candidate,
        flags.needs_training,
        {%- for flag in ces_flag_probability_vars() %}
            flags.{{ flag }}_probability,
            flags.{{ flag }}_horizon_days,
        {%- endfor %}
        scoring_window.weights_version,
        scoring_window.window_start,
        scoring_window.window_end,
        scores.engagement_score - scores.previous_engagement_score as engagement_change

    from customers
    cross join scoring_window
    inner join scores
        on customers.customer_key = scores.customer_key
    inner join flags
        on scores.customer_key = flags.customer_key

),

explained as (

    select
        *,
        concat_ws(
            '; ',
            {%- for reason in reasons %}
                case when {{ reason[0] }} then {{ reason[1] }} end{{ "," if not loop.last }}
            {%- endfor %}
        ) as flag_reasons

    from flagged

),

final as (

    select
        customer_id,
        customer_name,
        segment,
        plan,
        lifecycle_stage,
        cast(engagement_score as decimal(18, 4)) as engagement_score,
        cast(event_count as bigint) as event_count,
        weights_version,
        window_start,
        window_end,
        cast(previous_engagement_score as decimal(18, 4)) as previous_engagement_score,
        cast(engagement_change as decimal(18, 4)) as engagement_change,
        {{ ces_decimal('engagement_change_pct', 18, 2) }} as engagement_change_pct,
        cast(days_since_last_event as integer) as days_since_last_event,
        cast(active_days as integer) as active_days,
        cast(distinct_event_types as integer) as distinct_event_types,
        {{ ces_decimal('segment_percentile', 6, 2) }} as segment_percentile,
        engagement_tier,
        is_trial_conversion_candidate,
        is_churn_risk,
        is_upsell_candidate,
        needs_training,
        nullif(flag_reasons, '') as flag_reasons

    from explained

)

select * from final
