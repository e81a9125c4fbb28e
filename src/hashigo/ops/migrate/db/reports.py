"""The results of each step, as plain data: what --json prints and what the tables show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hashigo.ops.migrate.db.schema_compare import SchemaDiff
from hashigo.ops.migrate.db.verify import RowDiff, UnitCheck


@dataclass
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    units: int
    differing_units: list[str]

    @property
    def ok(self) -> bool:
        return not self.differing_units


@dataclass
class VerifyReport:
    checks: list[UnitCheck]
    schema: SchemaDiff
    drills: dict[str, RowDiff] = field(default_factory=dict)
    seconds: float = 0.0
    modern: bool = True  # hash_record_extended (PostgreSQL 14+) rather than the text form

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and self.schema.ok

    @property
    def differing(self) -> list[UnitCheck]:
        return [c for c in self.checks if not c.ok]

    def tables(self) -> list[TableCheck]:
        out: dict[str, TableCheck] = {}
        for check in self.checks:
            key = check.unit.table.key
            row = out.setdefault(key, TableCheck(key, 0, 0, 0, []))
            row.source_rows += max(check.source_rows, 0)
            row.target_rows += max(check.target_rows, 0)
            row.units += 1
            if not check.ok:
                row.differing_units.append(check.unit.label if check.target_rows >= 0 else f"{key} (missing)")
        return sorted(out.values(), key=lambda t: t.table)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "tables": [{"table": t.table, "source_rows": t.source_rows, "target_rows": t.target_rows,
                        "units": t.units, "ok": t.ok, "differing": t.differing_units} for t in self.tables()],
            "rows_differ": {label: {"only_source": d.only_source, "only_target": d.only_target,
                                    "changed": d.changed, "note": d.note} for label, d in self.drills.items()},
            "schema": {"ok": self.schema.ok, "compared": self.schema.compared, "missing": self.schema.missing,
                       "different": self.schema.different, "extra_on_target": self.schema.extra},
        }
