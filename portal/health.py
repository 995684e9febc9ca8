"""Checks for /healthz: the database, the task broker, worker heartbeats and the queue's age."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

from offboarding.runner import heartbeat

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


def check_workers() -> str | None:
    """None when some worker has sent a heartbeat within PORTAL_HEALTH_WORKER_SILENCE seconds."""
    limit = settings.PORTAL_HEALTH_WORKER_SILENCE
    try:
        last = heartbeat.last_worker_beat()
    except Exception as exc:
        logger.warning("healthz: worker heartbeat unreadable: %s", type(exc).__name__)
        return f"worker heartbeat unreadable ({type(exc).__name__})"
    if last is None:
        return "no worker has sent a heartbeat"
    silent = (timezone.now() - last).total_seconds()
    if silent > limit:
        return f"no worker heartbeat for {silent:.0f} s (limit {limit} s)"
    return None


def check_queue() -> str | None:
    """None unless a ready step has waited longer than PORTAL_HEALTH_QUEUE_WAIT seconds."""
    limit = settings.PORTAL_HEALTH_QUEUE_WAIT
    now = timezone.now()
    try:
        since = heartbeat.oldest_ready_since(now)
    except Exception as exc:
        logger.warning("healthz: queue age unreadable: %s", type(exc).__name__)
        return f"queue age unreadable ({type(exc).__name__})"
    waited = 0.0 if since is None else (now - since).total_seconds()
    if waited > limit:
        return f"a ready step has waited {waited:.0f} s for a worker (limit {limit} s)"
    return None
