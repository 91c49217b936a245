"""The Tripletex sandbox: a local HTTP double of the API (``server``), its data (``seed``), the
``fields`` filter, the session/auth/rate-limit gate (``access``) and ``:createReminder``."""

from providers.tripletex.sandbox.server import TripletexSandbox

__all__ = ["TripletexSandbox"]
