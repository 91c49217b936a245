"""Move every Python process of a test run to another date, with the clock ticking.

CI puts this folder on PYTHONPATH and sets ``KRAVSYNC_TIME_TRAVEL`` to an ISO timestamp with a
UTC offset (e.g. ``2028-12-31T21:30:00+01:00``). The first process (pytest) records the real
time it started at in ``KRAVSYNC_TIME_TRAVEL_REF``; every process it starts inherits that, and
travels to the destination plus the real time elapsed since, so the test process, the
``kravsync`` subprocesses it starts and their sandboxes all agree on one shifted clock.

time-machine moves ``time.time``, ``datetime.now``, ``date.today`` and friends, but not
``time.monotonic`` (waits and timeouts keep working), nor the C library's clock (OpenSSL).
"""

import os
import time
from datetime import datetime, timedelta

_destination = os.environ.get("KRAVSYNC_TIME_TRAVEL", "").strip()
if _destination:
    import time_machine

    _ref = os.environ.setdefault("KRAVSYNC_TIME_TRAVEL_REF", repr(time.time()))
    _elapsed = timedelta(seconds=max(0.0, time.time() - float(_ref)))
    _target = datetime.fromisoformat(_destination) + _elapsed
    _traveller = time_machine.travel(_target, tick=True).start()
    # Starting the travel takes a moment (longer on a loaded machine, when process starts
    # crowd): put this process's clock exactly where every other one stands, the destination
    # plus the real time elapsed since the reference, so host-time rules across processes (leases,
    # the shared rate budget) see one clock, as they do without the shift.
    _start = datetime.fromisoformat(_destination).timestamp()
    _now_everywhere = _start + (time_machine.escape_hatch.time.time() - float(_ref))
    _traveller.shift(_now_everywhere - time.time())
