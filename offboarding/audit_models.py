"""The audit chain's signed state: its head, the verified-up-to watermark, checkpoints sent out."""

from __future__ import annotations

from django.db import models


class AuditChainHead(models.Model):
    """A single row: the last linked sequence number and hash, signed with the audit key."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditWatermark(models.Model):
    """A single row: the chain was verified intact up to `seq` (whose hash is `hash`), signed."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(null=True, blank=True)
    signature = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit verified up to #{self.seq}"


class AuditCheckpoint(models.Model):
    """A copy of a checkpoint sent to the sink outside the database (the sink is what counts)."""

    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    signature = models.CharField(max_length=64)
    sink = models.CharField(max_length=300)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-at"], name="offboarding_checkpoint_at")]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.seq} at {self.at:%Y-%m-%d %H:%M:%S}"
