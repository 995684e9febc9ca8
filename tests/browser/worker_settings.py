"""Settings for the browser journeys' qcluster subprocess: the portal's, with one attempt per step.

Transient errors are re-queued by the sweeper (every ~30 s) between attempts; with one attempt a
sandbox fault fails its step at once, which keeps the journeys short. Everything else is production.
"""

from portal.settings import *  # noqa: F403

OFFBOARDING_MAX_ATTEMPTS = 1
