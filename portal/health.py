"""Liveness checks for /healthz: the database and the task broker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """None when the database answers, else a short reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        return f"database unreachable ({type(exc).__name__})"
    return None


def check_broker() -> str | None:
    """None when django-q2's broker answers, else a short reason."""
    try:
        if "redis" in settings.Q_CLUSTER:
            from django_q.brokers import get_broker

            get_broker().ping()
        else:
            from django_q.models import OrmQ

            OrmQ.objects.using(settings.Q_CLUSTER["orm"]).exists()
    except Exception as exc:
        logger.warning("healthz: broker check failed: %s", type(exc).__name__)
        return f"task broker unreachable ({type(exc).__name__})"
    return None
