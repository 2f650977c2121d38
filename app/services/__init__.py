"""Use cases, one package per domain; the only writer of tickets and the only caller of the engine.

tickets      create, operate, read, list tickets; the ticket page; numbers, counters, comments
fields       form values through the field registry; API-sourced options; uploaded files
flows        flow templates (YAML), deployed versions, the flow editor, graph layout
catalog      what requesters may submit; services and the catalog tree in the back office
knowledge    articles, versions, categories, links to tickets, full-text search
notify       the notice outbox, daily reminders, templates, channel settings
automation   api and automation steps run by the scheduler
integration  configured APIs and their calls, API client apps, result callbacks
people       accounts, roles, the directory processors are resolved with
stats        运营数据 and the back office's overview
system       init and demo data, settings, the audit log, data dictionaries

Entry points (web, api, admin, jobs, cli) import a domain package and call what its
`__init__` exports; services import each other's modules. Services never commit: each
entry point runs them in its unit of work (`app.infra.uow`).
"""
