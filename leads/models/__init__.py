"""The product's domain: sites and their visitors, conversations, messages, and the leads
qualified from them with the evidence behind every fact. One module per part; this package
re-exports them, so `from leads.models import Lead` reads as Django's convention."""

from leads.models.calls import ModelCall
from leads.models.conversations import Conversation, Message
from leads.models.dashboard import DashboardVisit
from leads.models.knowledge import FaqEntry, KnowledgeDocument, Passage
from leads.models.leads import Evidence, Lead, LeadEvent
from leads.models.notifications import Notification
from leads.models.sites import Site, Visitor, default_qualification_fields, default_score_weights

__all__ = [
    "Conversation",
    "DashboardVisit",
    "Evidence",
    "FaqEntry",
    "KnowledgeDocument",
    "Lead",
    "LeadEvent",
    "Message",
    "ModelCall",
    "Notification",
    "Passage",
    "Site",
    "Visitor",
    "default_qualification_fields",
    "default_score_weights",
]
