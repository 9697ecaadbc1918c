from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from leads.views import api, prometheus

urlpatterns = [
    path("healthz", api.healthz, name="healthz"),
    path("metrics", prometheus.prometheus_metrics, name="metrics"),
    path("api/widget/<str:site_key>/", api.widget_config_view, name="widget-config"),
    path("dashboard/", include("leads.dashboard.urls")),
    path("admin/", admin.site.urls),
]
