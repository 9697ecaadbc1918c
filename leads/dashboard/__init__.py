"""The sales staff's dashboard: its own Django app inside the `leads` package, the way
`django.contrib.admin` sits inside `django`.

It reads through `leads.selectors` and its own `selectors/`, and writes only through
`leads.services`; nothing in the domain imports it (an import contract keeps it so). Its models
stay with the domain's (`leads.models.DashboardVisit`), so no migration moved them.
"""
