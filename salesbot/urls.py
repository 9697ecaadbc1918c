from __future__ import annotations

from django.contrib import admin
from django.urls import path

from leads import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/widget/<str:site_key>/", views.widget_config_view, name="widget-config"),
    path("admin/", admin.site.urls),
]
