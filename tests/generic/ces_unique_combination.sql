{#- Fails with one row per repeated combination of `columns` (nulls compare equal). -#}
{% test ces_unique_combination(model, column_name, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences,
    'remove the repeated rows: ({{ columns | join(", ") }}) must be unique' as how_to_fix

from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
