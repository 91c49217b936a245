"""Customer-data checks → findings (identifiers via python-stdnum, registry via Brønnøysund)."""

from connector.validation.brreg import (
    BrregClient,
    InMemoryRegistryCache,
    RegistryCache,
    RegistryLookup,
    RegistryResult,
    RegistryState,
)
from connector.validation.findings import CODES, RULES, Finding, blocked_stages
from connector.validation.identifiers import mask_national_id
from connector.validation.postcodes import (
    PostcodeRegister,
    fixture_register,
    load_postcode_register,
)
from connector.validation.rules import (
    ValidationOptions,
    ValidationResult,
    validate_customers,
    validate_invoices,
)

__all__ = [
    "CODES",
    "RULES",
    "BrregClient",
    "Finding",
    "InMemoryRegistryCache",
    "PostcodeRegister",
    "RegistryCache",
    "RegistryLookup",
    "RegistryResult",
    "RegistryState",
    "ValidationOptions",
    "ValidationResult",
    "blocked_stages",
    "fixture_register",
    "load_postcode_register",
    "mask_national_id",
    "validate_customers",
    "validate_invoices",
]
