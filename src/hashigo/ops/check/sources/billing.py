"""The monthly bill: a number, or a billing CSV export.

Accepted CSVs (a header row is required; column names are matched without regard to case):
- simple: a date column (`date`, `day`, `usage_date`, `billing_date`) and an amount column
  (`amount`, `cost`, `usd`, `amount_usd`, `cost_usd`), one row per charge or per day;
- AWS Cost and Usage Report: `lineItem/UsageStartDate` + `lineItem/UnblendedCost` (CUR 1.0) or
  `line_item_usage_start_date` + `line_item_unblended_cost` (CUR 2.0 / Data Exports).
A currency column (`currency`, `lineItem/CurrencyCode`, `line_item_currency_code`) must say USD.
Dates are `YYYY-MM-DD` (a time after it is ignored). The bill is the latest month's total; when that
month is the current one and not over yet, it is projected to the whole month from the days seen.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hashigo.ops.check.loading import CheckInputError
from hashigo.ops.check.sources.base import Reading, Sample

DATE_COLUMNS = ("date", "day", "usage_date", "billing_date", "lineitem/usagestartdate", "line_item_usage_start_date")
AMOUNT_COLUMNS = ("amount", "cost", "usd", "amount_usd", "cost_usd", "lineitem/unblendedcost",
                  "line_item_unblended_cost")
CURRENCY_COLUMNS = ("currency", "lineitem/currencycode", "line_item_currency_code")
_DATE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})")


@dataclass(frozen=True)
class Bill:
    month: str
    usd: float
    total_so_far: float
    projected: bool
    days_seen: int
    months: dict[str, float]

    def reading(self) -> Reading:
        note = (f"{self.month}: {self.total_so_far:,.2f} USD in {self.days_seen} days, projected to the month"
                if self.projected else f"{self.month}, from the billing CSV")
        return Reading("bill_usd", self.usd, "billing", note)


def _column(header: list[str], accepted: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(name) for name in accepted if name in lowered), None)


def read_bill(path: Path, today: date) -> Bill:
    name = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise CheckInputError([f"{name}: no such billing CSV"]) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CheckInputError([f"{name}: cannot be read as CSV ({exc})"]) from None
    if not rows:
        raise CheckInputError([f"{name}: empty; expected a header row, e.g. date,amount"])
    header = rows[0]
    at, amount, currency = (_column(header, DATE_COLUMNS), _column(header, AMOUNT_COLUMNS),
                            _column(header, CURRENCY_COLUMNS))
    if at is None or amount is None:
        raise CheckInputError([f"{name}:1: no {'date' if at is None else 'amount'} column in {header!r}; accepted: "
                               f"date,amount (or day/usage_date, cost/usd) or an AWS CUR export "
                               f"(lineItem/UsageStartDate, lineItem/UnblendedCost)"])
    totals: dict[str, float] = defaultdict(float)
    last_day: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        day, usd = _row(row, at, amount, currency, f"{name}:{number}")
        month = f"{day.year:04d}-{day.month:02d}"
        totals[month] += usd
        last_day[month] = max(last_day.get(month, 0), day.day)
    if not totals:
        raise CheckInputError([f"{name}: no charges after the header"])
    month = max(totals)
    year, mon = int(month[:4]), int(month[5:])
    length = calendar.monthrange(year, mon)[1]
    current = (today.year, today.month) == (year, mon) and last_day[month] < length
    usd = totals[month] * length / last_day[month] if current else totals[month]
    return Bill(month, usd, totals[month], current, last_day[month], dict(sorted(totals.items())))


def _row(row: list[str], at: int, amount: int, currency: int | None, where: str) -> tuple[date, float]:
    if max(at, amount, currency or 0) >= len(row):
        raise CheckInputError([f"{where}: {len(row)} columns, fewer than the header's"])
    match = _DATE.match(row[at].strip())
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    except ValueError:
        day = None
    if day is None:
        raise CheckInputError([f"{where}: date {row[at]!r} is not YYYY-MM-DD"])
    try:
        usd = float(row[amount].strip().replace(",", "").lstrip("$"))
    except ValueError:
        raise CheckInputError([f"{where}: amount {row[amount]!r} is not a number"]) from None
    if currency is not None and row[currency].strip() and row[currency].strip().upper() != "USD":
        raise CheckInputError([f"{where}: currency {row[currency]!r}; accepted: USD (convert the export first)"])
    return day, usd


class BillingSource:
    name = "billing"
    provides: tuple[str, ...] = ("bill_usd",)
    timeout = request_timeout = 5.0

    def __init__(self, *, monthly_usd: float | None = None, bill: Bill | None = None, target: str = "") -> None:
        self.monthly_usd = monthly_usd
        self.bill = bill
        self.target = target or ("given number" if monthly_usd is not None else "billing CSV")

    async def sample(self) -> Sample:
        if self.bill is not None:
            return Sample([self.bill.reading()], {"months": self.bill.months, "projected": self.bill.projected})
        return Sample([Reading("bill_usd", self.monthly_usd, self.name, "given")])

    async def close(self) -> None:
        return None
