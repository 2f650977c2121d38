"""Service levels, pure: business calendars, clocks from a ticket's events, agreement files.

No Flask, no database: the services feed it a ticket's facts and store what it derives.
"""
