"""The Fortnox sandbox: a local HTTP double of API v3 (``server``), its Swedish data (``seed``)
and the push endpoints it answers (``push_api``: Finans, printreminder, Comments)."""

from providers.fortnox.sandbox.server import FortnoxSandbox

__all__ = ["FortnoxSandbox"]
