"""Signals of the connections app (receivers write the audit trail elsewhere)."""

from django.dispatch import Signal

# Sent after a connection changed, inside the same transaction.
# kwargs: connection, actor, action ("created", "updated", "enabled", "disabled", "tested",
# "secret_replaced", "keys_rotated"), changed_fields (names only: never a secret or its value).
connection_changed = Signal()
