{#- Fails with each non-null value that is not a number. -#}
{% test ces_is_numeric(model, column_name) %}

select
    *,
    'make {{ column_name }} a plain decimal number such as 2.5 or -4' as how_to_fix

from {{ model }}
where
    {{ column_name }} is not null
    and {{ ces_try_cast(column_name, 'decimal(12, 4)') }} is null

{% endtest %}
