"""Settings for the chaos tests' subprocesses: the portal's own, production defaults included.

Leases (15 s, renewed every 5 s), the cluster's sweep (every 5 s), Q_TIMEOUT/Q_RETRY (90/180 s) and
the re-queue age (120 s) are the defaults, so the recovery times the tests print are a deployment's.
"""

from portal.settings import *  # noqa: F403
