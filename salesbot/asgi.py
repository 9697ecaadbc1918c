"""ASGI entry point: HTTP goes to Django, WebSockets to the chat consumer."""

from __future__ import annotations

import gc
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesbot.settings")
# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from leads.dispatch import queue_warm_up  # noqa: E402
from leads.services.extraction import receive_warm_up  # noqa: E402
from salesbot.routing import websocket_urlpatterns  # noqa: E402

# The rules read every visitor message as it is stored, and its reply is queued: load them and
# connect to the broker now, not for the first message.
receive_warm_up()
queue_warm_up()
# Each socket holds a few hundred objects: with thousands open, the collector's default
# thresholds ran it so often that it took a fifth of a reconnect storm's time.
gc.set_threshold(*settings.WEB_GC_THRESHOLD)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The consumer checks the Origin against the Site's own allowed origins.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
