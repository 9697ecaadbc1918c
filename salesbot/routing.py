from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from leads.consumers.chat import ChatConsumer
from leads.dashboard.consumers import DashboardConsumer

websocket_urlpatterns = [
    # The chat checks the Origin against each Site's own allowed origins.
    path("ws/chat/<str:site_key>/", ChatConsumer.as_asgi()),
    # The dashboard is ours alone: same host only (no cross-site socket hijacking), and the
    # session cookie tells who the rep is.
    path(
        "ws/dashboard/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi())),
    ),
]
