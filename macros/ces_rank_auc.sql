{#- The AUC, written once for the backtest marts: rank-based (Mann-Whitney), with the average
    rank for ties, so it does not depend on row order. ces_average_rank gives each row's rank
    by `order_by` in its partition; summed over the positives it is the positive_rank_sum that
    ces_rank_auc turns into the AUC: 0.5 is chance, 1 every positive ranked above every
    negative; null without both positives and negatives. -#}
{% macro ces_average_rank(partition_by, order_by) -%}
    cast(rank() over (partition by {{ partition_by }} order by {{ order_by }}) as {{ ces_data_type('double') }})
    + cast(count(*) over (partition by {{ partition_by }}, {{ order_by }}) - 1 as {{ ces_data_type('double') }}) / 2
{%- endmacro %}

{% macro ces_rank_auc(positive_rank_sum, positives, population) -%}
    case when {{ positives }} > 0 and {{ positives }} < {{ population }} then
        ({{ positive_rank_sum }} - {{ positives }} * ({{ positives }} + 1) / 2.0)
        / (cast({{ positives }} as {{ ces_data_type('double') }}) * ({{ population }} - {{ positives }}))
    end
{%- endmacro %}
