from __future__ import annotations

from django.urls import path

from leads.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<str:site_key>/", ChatConsumer.as_asgi()),
]
