"""SQLAlchemy models, one module per aggregate."""
from .api import ApiApp, ApiRequestLog, TicketCallback, TicketComment
from .catalog import Catalog, CatalogService, Service
from .dictionary import Dictionary, DictionaryItem
from .flow import FLOW_STATUS_NAMES, Flow, FlowVersion
from .ticket import (SN_PREFIX, Attachment, Notification, SnCounter, StepProcessor, Ticket, TicketFollower,
                     TicketLink, TicketLog, TicketParticipant, TicketStep, UserDayCounter)
from .user import LoginFailure, Role, RoleMember, User

__all__ = [
    "ApiApp", "ApiRequestLog", "TicketCallback", "TicketComment",
    "Catalog", "CatalogService", "Service", "Dictionary", "DictionaryItem", "FLOW_STATUS_NAMES", "Flow",
    "FlowVersion", "SN_PREFIX", "Attachment", "Notification", "SnCounter", "StepProcessor", "Ticket",
    "TicketFollower", "TicketLink", "TicketLog", "TicketParticipant", "TicketStep", "UserDayCounter", "LoginFailure", "Role", "RoleMember", "User",
]

# Back office (issue 4): audit log, system settings, API configuration.
from .audit import AuditLog  # noqa: E402
from .integration import API_METHODS, ApiCallLog, ApiDef, ApiSystem  # noqa: E402
from .settings import Setting  # noqa: E402

__all__ += ["AuditLog", "API_METHODS", "ApiCallLog", "ApiDef", "ApiSystem", "Setting"]

# Knowledge base (issue 7): articles, versions, categories, tags, ticket links.
from .knowledge import Article, ArticleTag, ArticleTicket, ArticleVersion, KnowledgeCategory  # noqa: E402

__all__ += ["Article", "ArticleTag", "ArticleTicket", "ArticleVersion", "KnowledgeCategory"]

# Automatic steps (issue 6): the scheduler's work items for api/automation nodes.
from .automation import AutomaticRun  # noqa: E402

__all__ += ["AutomaticRun"]

# Notifications (issue 6): user channel choices, delivery records, daily reminder marks.
from .notify import NotificationDelivery, NotifyPreference, StepReminder  # noqa: E402

__all__ += ["NotificationDelivery", "NotifyPreference", "StepReminder"]

# Alerts become incidents (issue 19): receivers, received payloads, alert groups, alerts.
from .alerts import RECEIVER_KINDS, Alert, AlertGroup, AlertPayload, AlertReceiver, AlertRuleState  # noqa: E402

__all__ += ["RECEIVER_KINDS", "Alert", "AlertGroup", "AlertPayload", "AlertReceiver", "AlertRuleState"]
# Service levels (issue 18): each warning and breach recorded once.
from .sla import SlaNotice, SlaOutcome  # noqa: E402

__all__ += ["SlaNotice", "SlaOutcome"]
