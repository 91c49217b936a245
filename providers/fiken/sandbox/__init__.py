"""The Fiken sandbox: a local HTTP double of API v2 (``server``), its data (``seed``, kept in the
``ledger``), query parameters (``params``), writes (``writes``), rate limits and fault injection
(``control``) and the OAuth2 endpoint (``oauth``)."""

from providers.fiken.sandbox.server import FikenSandbox

__all__ = ["FikenSandbox"]
