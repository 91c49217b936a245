"""The sandbox's records: a seed plus the changes tests make, with compact filter indexes.

Full records are built from the seed on demand (one page at a time); only per-record facts
(dates as day ordinals, flags, customer index) are kept, in ``array``/``bytearray``, plus the
few records a test changed or added. Filter results are cached per query until the next change,
so paging through a large filtered set costs one scan, not one per page.
"""

from __future__ import annotations

import operator
import threading
from array import array
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from . import seed as s
from .params import DATE_OPS

_CUSTOMER, _SUPPLIER, _INACTIVE = 1, 2, 4
_OPS: dict[str, Callable[[int, int], bool]] = {
    "": operator.eq,
    "Le": operator.le,
    "Lt": operator.lt,
    "Ge": operator.ge,
    "Gt": operator.gt,
}
_CACHE_SIZE = 32


class UnknownRecord(KeyError):
    pass


class Ledger:
    def __init__(self, seed: s.Seed) -> None:
        self.seed = seed
        self._lock = threading.RLock()
        self._version = 0
        self._cache: dict[tuple[Any, ...], list[int]] = {}
        self._c_created = array("l")
        self._c_modified = array("l")
        self._c_flags = bytearray()
        self._contacts: dict[int, dict[str, Any]] = {}  # changed or added contacts
        for i in range(seed.n_contacts):
            self._index_contact(i, seed.contact_core(i))
        self._i_customer = array("l")
        self._i_issue = array("l")
        self._i_due = array("l")
        self._i_modified = array("l")
        self._i_settled = bytearray()
        self._invoices: dict[int, dict[str, Any]] = {}  # changed or added invoices
        for i in range(seed.n_invoices):
            self._index_invoice(i, seed.invoice_core(i))

    # --- indexes -------------------------------------------------------------------------------

    def _index_contact(self, i: int, core: s.ContactCore) -> None:
        flags = (
            (_CUSTOMER if core.customer else 0)
            | (_SUPPLIER if core.supplier else 0)
            | (_INACTIVE if core.inactive else 0)
        )
        if i == len(self._c_flags):
            self._c_created.append(core.created.toordinal())
            self._c_modified.append(core.last_modified.toordinal())
            self._c_flags.append(flags)
        else:
            self._c_created[i] = core.created.toordinal()
            self._c_modified[i] = core.last_modified.toordinal()
            self._c_flags[i] = flags

    def _index_invoice(self, i: int, core: s.InvoiceCore) -> None:
        values = (
            core.customer_index,
            core.issue.toordinal(),
            core.due.toordinal(),
            core.last_modified.toordinal(),
        )
        arrays = (self._i_customer, self._i_issue, self._i_due, self._i_modified)
        if i == len(self._i_settled):
            for arr, v in zip(arrays, values, strict=True):
                arr.append(v)
            self._i_settled.append(core.settled)
        else:
            for arr, v in zip(arrays, values, strict=True):
                arr[i] = v
            self._i_settled[i] = core.settled

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()

    @property
    def contact_count(self) -> int:
        return len(self._c_flags)

    @property
    def invoice_count(self) -> int:
        return len(self._i_settled)

    # --- reads ---------------------------------------------------------------------------------

    def contact_index(self, cid: int) -> int:
        i = s.contact_index(cid)
        if i is None or i >= self.contact_count:
            raise UnknownRecord(cid)
        return i

    def invoice_index(self, iid: int) -> int:
        i = s.invoice_index(iid)
        if i is None or i >= self.invoice_count:
            raise UnknownRecord(iid)
        return i

    def contact(self, i: int, base_url: str = "") -> dict[str, Any]:
        """The contact; with ``base_url``, its documents' download URLs made absolute."""
        with self._lock:
            if i in self._contacts:
                record = s.copy_json(self._contacts[i])
                if base_url:
                    _absolute(record.get("documents") or [], base_url)
                return record
        return self.seed.contact(i)

    def invoice(self, i: int, base_url: str = "") -> dict[str, Any]:
        """The invoice as Fiken serves it: the current customer embedded, URLs absolute."""
        with self._lock:
            stored = self._invoices.get(i)
            record = s.copy_json(stored) if stored is not None else None
            customer_index = self._i_customer[i]
        if record is None:
            record = self.seed.invoice(i)
        record["customer"] = self.contact(customer_index, base_url)
        _absolute([record.get("invoicePdf") or {}, *record.get("attachments", [])], base_url)
        return record

    def find_contacts(self, params: dict[str, Any]) -> list[int]:
        """Indexes of contacts matching ``params`` (the spec's filters), in the requested order."""
        key = ("contacts", _filter_key(params))
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            found: Iterable[int] = range(self.contact_count)
            flags = self._c_flags
            for name, bit in (("customer", _CUSTOMER), ("supplier", _SUPPLIER)):
                if name in params:
                    want = params[name]
                    found = [i for i in found if bool(flags[i] & bit) == want]
            if "inactive" in params:
                want = params["inactive"]
                found = [i for i in found if bool(flags[i] & _INACTIVE) == want]
            for fld, arr in (("lastModified", self._c_modified), ("createdDate", self._c_created)):
                found = _date_filter(found, params, fld, arr)
            checks = _contact_checks(params)
            if checks:
                found = [i for i in found if all(check(self.contact(i)) for check in checks)]
            sort = params.get("sortBy", "createdDate asc")
            arr = self._c_modified if sort.startswith("lastModified") else self._c_created
            result = sorted(found, key=lambda i: (arr[i], i), reverse=sort.endswith("desc"))
            return self._remember(key, result)

    def find_invoices(self, params: dict[str, Any]) -> list[int]:
        key = ("invoices", _filter_key(params))
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            found: Iterable[int] = range(self.invoice_count)
            if "settled" in params:
                want = params["settled"]
                settled = self._i_settled
                found = [i for i in found if bool(settled[i]) == want]
            if "customerId" in params:
                ci = s.contact_index(params["customerId"])
                cust = self._i_customer
                found = [i for i in found if cust[i] == ci] if ci is not None else []
            if "invoiceNumber" in params:
                raw = params["invoiceNumber"]
                n = int(raw) - s.FIRST_INVOICE_NUMBER if raw.isdigit() else -1
                found = [n] if 0 <= n < self.invoice_count and n in found else []
            for fld, arr in (
                ("issueDate", self._i_issue),
                ("dueDate", self._i_due),
                ("lastModified", self._i_modified),
            ):
                found = _date_filter(found, params, fld, arr)
            for name in ("orderReference", "invoiceDraftUuid"):
                if name in params:
                    found = [i for i in found if self.invoice(i).get(name) == params[name]]
            return self._remember(key, list(found))

    def _remember(self, key: tuple[Any, ...], result: list[int]) -> list[int]:
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = result
        return result

    # --- changes tests make --------------------------------------------------------------------

    def _stored_invoice(self, i: int) -> dict[str, Any]:
        if i not in self._invoices:
            self._invoices[i] = self.seed.invoice(i)
        return self._invoices[i]

    def settle(self, iid: int, amount: int | None, on: date) -> dict[str, Any]:
        """Register a payment (the rest when ``amount`` is None) in the invoice's currency."""
        with self._lock:
            i = self.invoice_index(iid)
            inv = self._stored_invoice(i)
            sale = inv["sale"]
            open_amount = sale["outstandingBalanceInCurrency"]
            pay = open_amount if amount is None else amount
            if pay <= 0 or pay > open_amount:
                raise ValueError(f"payment {pay} must be in 1..{open_amount} for invoice {iid}")
            rate = s.EUR_RATE_CENTS if inv["currency"] == "EUR" else 100
            payment: dict[str, Any] = {
                "paymentId": s.PAYMENT_ID_BASE + 10 * i + len(sale["salePayments"]),
                "date": on.isoformat(),
                "account": "1920:10001",
                "amount": pay,
            }
            if inv["currency"] != "NOK":
                payment.update(amountInNok=pay * rate // 100, currency=inv["currency"], fee=0)
            sale["salePayments"].append(payment)
            left = open_amount - pay
            paid = sale["totalPaidInCurrency"] + pay
            sale.update(
                totalPaidInCurrency=paid,
                totalPaid=paid * rate // 100,
                outstandingBalanceInCurrency=left,
                outstandingBalance=left * rate // 100,
                paymentDate=on.isoformat(),
                settled=left == 0,
            )
            if left == 0:
                sale["settledDate"] = on.isoformat()
            self._modified_invoice(i, inv, on)
            return s.copy_json(inv)

    def touch_invoice(self, iid: int, on: date) -> None:
        with self._lock:
            i = self.invoice_index(iid)
            self._modified_invoice(i, self._stored_invoice(i), on)

    def _modified_invoice(self, i: int, inv: dict[str, Any], on: date) -> None:
        inv["lastModifiedDate"] = inv["sale"]["lastModifiedDate"] = on.isoformat()
        self._index_invoice(i, s.invoice_core_of(inv, self._i_customer[i]))
        self._changed()

    def update_contact(self, cid: int, changes: dict[str, Any], on: date) -> dict[str, Any]:
        """Replace top-level fields of a contact (a value of None removes the field)."""
        with self._lock:
            i = self.contact_index(cid)
            record = self.contact(i)
            for k, v in changes.items():
                if v is None:
                    record.pop(k, None)
                else:
                    record[k] = v
            record["lastModifiedDate"] = on.isoformat()
            self._contacts[i] = record
            self._index_contact(i, s.contact_core_of(record))
            self._changed()
            return s.copy_json(record)

    def add_contact(self, build: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            i = self.contact_count
            record = build(i)
            self._contacts[i] = record
            self._index_contact(i, s.contact_core_of(record))
            self._changed()
            return s.copy_json(record)

    def add_invoice(
        self, customer_id: int, build: Callable[[int, dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._lock:
            ci = self.contact_index(customer_id)
            i = self.invoice_count
            record = build(i, self.contact(ci))
            record.pop("customer", None)
            self._invoices[i] = record
            self._index_invoice(i, s.invoice_core_of(record, ci))
            self._changed()
            return s.copy_json(record)

    # --- writes through the API (writes.py) ----------------------------------------------------

    def add_invoice_attachment(self, iid: int, attachment: dict[str, Any], on: date) -> None:
        with self._lock:
            i = self.invoice_index(iid)
            inv = self._stored_invoice(i)
            inv.setdefault("attachments", []).append(attachment)
            self._modified_invoice(i, inv, on)

    def add_dispatch(self, iid: int, dispatch_type: str, on: date) -> dict[str, Any]:
        """Record one sending of the invoice (``POST /invoices/send``)."""
        with self._lock:
            i = self.invoice_index(iid)
            inv = self._stored_invoice(i)
            dispatch = {"date": on.isoformat(), "dispatchType": dispatch_type}
            inv.setdefault("dispatches", []).append(dispatch)
            self._modified_invoice(i, inv, on)
            return dict(dispatch)

    def add_contact_document(self, cid: int, document: dict[str, Any]) -> None:
        """A document filed on a contact; the contact's lastModifiedDate stays as it was."""
        with self._lock:
            i = self.contact_index(cid)
            record = self.contact(i)
            record.setdefault("documents", []).append(document)
            self._contacts[i] = record
            self._changed()


def _absolute(attachments: list[dict[str, Any]], base_url: str) -> None:
    for att in attachments:
        if str(att.get("downloadUrl", "")).startswith("/"):
            att["downloadUrl"] = base_url + att["downloadUrl"]


def _filter_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """Paging is not part of a query's identity: every page of it shares one cached scan."""
    return tuple(sorted((k, v) for k, v in params.items() if k not in ("page", "pageSize")))


def _date_filter(
    found: Iterable[int], params: dict[str, Any], field: str, arr: array[int]
) -> Iterable[int]:
    for op in DATE_OPS:
        value = params.get(field + op)
        if value is not None:
            cmp, v = _OPS[op], value.toordinal()
            found = [i for i in found if cmp(arr[i], v)]
    return found


def _never(_record: dict[str, Any]) -> bool:
    return False


def _contact_checks(params: dict[str, Any]) -> list[Callable[[dict[str, Any]], bool]]:
    """Filters that need the full record (rare, so they are not indexed)."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    equal = {
        k: params[k]
        for k in ("name", "organizationNumber", "email", "customerNumber", "supplierNumber")
        if k in params
    }
    if equal:
        checks.append(lambda c: all(c.get(k) == v for k, v in equal.items()))
    if "group" in params:
        group = params["group"]
        checks.append(lambda c: group in c.get("groups", []))
    if "phoneNumber" in params:
        phone = params["phoneNumber"]

        def has_phone(c: dict[str, Any]) -> bool:
            return any(p.get("phoneNumber") == phone for p in c.get("contactPerson", []))

        checks.append(has_phone)
    if "memberNumber" in params or "memberNumberString" in params:
        checks.append(_never)  # the sandbox's contacts have no member numbers
    return checks
