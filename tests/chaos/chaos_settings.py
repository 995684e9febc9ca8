"""Settings for the kill -9 test's subprocesses: the portal's settings with short runner clocks.

Short leases and a short re-enqueue age only make recovery quicker to observe; the guarantees
(claim, fencing, probe, sweeper) are the production code paths. Q_TIMEOUT/Q_RETRY come from the
environment the test sets (10 s / 20 s), so the lease (15 s) stays longer than a task may run.
"""

from portal.settings import *  # noqa: F403

OFFBOARDING_LEASE_SECONDS = 15
OFFBOARDING_REQUEUE_AFTER = 10
