from __future__ import annotations

from django.contrib import admin
from django.urls import path

from leads import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("demo/", views.demo, name="demo"),
    path("admin/", admin.site.urls),
]
