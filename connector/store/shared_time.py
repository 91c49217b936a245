"""The time every process sharing a store agrees on: for leases, heartbeats, named locks and
rate budgets (seconds since the epoch, never moved by ``--today``).

On SQLite every process is on one host, so it is the host's clock. On PostgreSQL workers run on
several hosts whose clocks may disagree: a host 30 s ahead would take other workers' leases
30 s early. There it is the database server's clock, read as this host's clock plus an offset
measured against the server (``clock_timestamp()``, half the round trip taken off) and measured
again every minute, so it costs no query on the hot path.
"""

from __future__ import annotations

from connector.clock import host_time


class SharedTime:
    def shared_time(self) -> float:
        """Now, as every process on this store counts it."""
        return host_time()


__all__ = ["SharedTime"]
