"""The same pull with the ``tripletex`` package from PyPI (0.1.8): the peer a Python user tries first.

Run by ``benchmarks/pull.py --provider tripletex`` with an interpreter that has the package
(``--peer-python``); prints one JSON line. It does what the package's README shows and nothing
more: a ``TripletexConfig`` with both tokens and the company id, a ``TripletexClient`` (without
a rate limiter, the default; or with the package's ``FileBasedRateLimiter`` when asked), and
``client.get`` page by page. The package has no customer or invoice endpoint classes (0.1.8
ships activity, bank, company, country, department, employee, ledger, project, supplier), so
the pull goes through the generic ``get``. The package's client retries 5xx and connection
errors, not 429 (crudclient's default), so a 429 ends the pull: that is what a user gets.

    python benchmarks/peers/tripletex_pypi.py ROOT_URL COMPANY CONSUMER EMPLOYEE [--limiter]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from decimal import Decimal
from typing import Any


def main(argv: list[str]) -> int:
    root, company, consumer, employee = argv[:4]
    use_limiter = "--limiter" in argv
    result: dict[str, Any] = {"requests": 0, "rate_limited": 0, "customers": 0, "open_invoices": 0}
    try:
        from tripletex.core.client import TripletexClient
        from tripletex.core.config import TripletexConfig
    except ImportError as exc:
        result["error"] = f"cannot import the tripletex package: {exc}"
        print(json.dumps(result))
        return 2
    try:  # as the package's README shows
        config = TripletexConfig(
            hostname=root.rstrip("/") + "/",
            version="v2",
            consumer_token=consumer,
            employee_token=employee,
            company_id=company,
        )
    except TypeError as exc:
        # 0.1.8's TripletexConfig takes crudclient's ClientConfig arguments only; the tokens
        # are class attributes read from the environment at import. Set them on the instance.
        result["readme_config"] = f"{type(exc).__name__}: {exc}"
        config = TripletexConfig(hostname=root.rstrip("/") + "/", version="v2")
        config.consumer_token, config.employee_token = consumer, employee
        config.company_id = company
    limiter = None
    if use_limiter:
        from tripletex.utils.rate_limiter import FileBasedRateLimiter

        folder = tempfile.mkdtemp(prefix="tripletex-peer-")
        limiter = FileBasedRateLimiter(f"{folder}/rl.lock", f"{folder}/rl.json")
    client = TripletexClient(config=config, rate_limiter=limiter)

    def count(response: Any, *args: Any, **kwargs: Any) -> Any:
        result["requests"] += 1
        if response.status_code == 429:
            result["rate_limited"] += 1
        return response

    client.http_client.session_manager.session.hooks["response"].append(count)
    started = time.monotonic()

    def pages(endpoint: str, params: dict[str, Any]) -> Any:
        start = 0
        while True:
            body = client.get(endpoint, params={**params, "from": start, "count": 1000})
            values = body.get("values") or []
            yield values
            if len(values) < 1000:
                return
            start += len(values)

    try:
        for inactive in ("false", "true"):
            for page in pages("customer", {"isInactive": inactive}):
                result["customers"] += len(page)
        window = {"invoiceDateFrom": "2000-01-01", "invoiceDateTo": "2100-01-01"}
        for page in pages("invoice", window):
            result["open_invoices"] += sum(
                1 for inv in page if Decimal(str(inv.get("amountCurrencyOutstanding") or 0)) > 0
            )
        result["outcome"] = "ok"
    except Exception as exc:  # noqa: BLE001 - the peer's failure is the measurement
        result["outcome"] = f"failed: {type(exc).__name__}: {str(exc)[:160]}"
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
