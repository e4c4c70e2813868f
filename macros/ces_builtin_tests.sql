{#- dbt's four built-in generic tests, as this project runs them: the same checks, and every
    failing row carries a how_to_fix column. dbt looks in the root project first when it
    dispatches its own tests; a host project that installs CES as a package names `ces` in its
    `dispatch:` config (README), and the calls below say `ces.` so they resolve there too. A
    test can give its own advice in config.meta.how_to_fix; otherwise the advice is written
    from the test's arguments. -#}
{% macro ces_how_to_fix(default) -%}
    '{{ (config.get('meta') or {}).get('how_to_fix', default) | replace("'", "''") | replace("\n", " ") | trim }}'
{%- endmacro %}


{% macro default__test_not_null(model, column_name) %}

select
    *,
    {{ ces.ces_how_to_fix(column_name ~ ' must be set on every row of ' ~ model.identifier
        ~ ': fill it where the row comes from (the loader for raw tables, the seed CSV for seeds)') }} as how_to_fix

from {{ model }}
where {{ column_name }} is null

{% endmacro %}


{% macro default__test_unique(model, column_name) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records,
    {{ ces.ces_how_to_fix(column_name ~ ' must be unique in ' ~ model.identifier
        ~ ': these values occur more than once; remove the repeated rows where they come from') }} as how_to_fix

from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1

{% endmacro %}


{% macro default__test_accepted_values(model, column_name, values, quote=True) %}

with

all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records

    from {{ model }}
    group by {{ column_name }}

)

select
    *,
    {{ ces.ces_how_to_fix(column_name ~ ' of ' ~ model.identifier ~ ' may only be one of ' ~ values | join(', ')
        ~ ': correct these values where they come from') }} as how_to_fix

from all_values
where value_field not in (
    {%- for value in values -%}
        {%- if quote %}'{{ value }}'{% else %}{{ value }}{% endif -%}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
)

{% endmacro %}


{% macro default__test_relationships(model, column_name, to, field) %}

with

child as (

    select {{ column_name }} as from_field

    from {{ model }}
    where {{ column_name }} is not null

),

parent as (

    select {{ field }} as to_field

    from {{ to }}

)

select
    child.from_field,
    {{ ces.ces_how_to_fix('each ' ~ column_name ~ ' of ' ~ model.identifier ~ ' must exist as ' ~ field
        ~ ' in ' ~ to.identifier ~ ': add the missing rows there, or correct these values') }} as how_to_fix

from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endmacro %}
