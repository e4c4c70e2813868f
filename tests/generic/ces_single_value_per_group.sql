{#- Fails with each group whose rows disagree on value_column, e.g. a weights version whose
    rows carry different effective_from dates. -#}
{% test ces_single_value_per_group(model, column_name, group_by, value_column) %}

select
    {{ group_by }},
    count(distinct {{ value_column }}) as distinct_values,
    'every row with the same {{ group_by }} must have the same {{ value_column }}' as how_to_fix

from {{ model }}
group by {{ group_by }}
having count(distinct {{ value_column }}) > 1

{% endtest %}
