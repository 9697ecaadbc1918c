"""The public HTTP API (`api`): the health check and the widget's configuration. The
dashboard's views are `leads.dashboard.views`."""
