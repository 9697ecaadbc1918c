"""WebSocket interfaces: the visitor's chat (`chat`) and the staff dashboard's live feed
(`dashboard`)."""

from leads.consumers.chat import ChatConsumer
from leads.consumers.dashboard import DashboardConsumer

__all__ = ["ChatConsumer", "DashboardConsumer"]
