"""`hashigo plan`: requirements in, a phased hosting plan out, every dollar explained and sourced.

Layout: requirements.py (what the app needs) → demand.py (load at a user count) → quantities.py
(billed quantities per catalog entry) → costing.py (refusals, line items) → stack_cost.py (a stack's
cheapest fitting combination) → engine.py (phases, choice) → migration.py, sweep.py, reference.py;
report.py + render_*.py for output; catalog.py/catalog_schema.py load src/hashigo/data/catalog/*.yaml.
"""

from hashigo.ops.plan.planning import PlanRequest, make_report

__all__ = ["PlanRequest", "make_report"]
