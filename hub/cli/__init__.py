"""Command-line management of users and tokens (`hacho user`, `hacho token`) without a running hub.

Each change is written to the audit log as the web's are, so this package sits above `hub.auth` and `hub.audit`.
"""
