"""Outbound integrations: HTTP API calls, notification channels, CMDB source. No database access here."""
