"""The staff console at ``/console``: server-rendered pages (Jinja2) with htmx and server-sent events.

The pages call the same services as the JSON API (``api.services``), so every rule and every role check
has one home; this package only renders and reads forms.
"""
