"""The one error a mapping raises: which record, of what kind, and why."""

from __future__ import annotations


class MappingError(ValueError):
    def __init__(self, kind: str, record_id: str, message: str) -> None:
        super().__init__(f"{kind} {record_id}: {message}")
        self.kind = kind
        self.record_id = record_id
        self.message = message
