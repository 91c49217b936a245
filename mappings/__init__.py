"""Pure translations between provider payloads and the canonical models (no I/O, no clock)."""
