"""`hashigo check`: live metrics against the seeds' migration triggers (seed 004 §移行タイミングの判断指標,
§Phase 2 移行トリガー; seed 002 §スケーリングのサイン): stay, consider the next phase, or move now.

Layout: rulefile.py (the rules file's schema) + loading.py (built-in rules patched by the user's file;
data/check/rules.yaml holds the defaults) → plan_limits.py (the current plan's limits, from the plan
catalog) → assemble.py (sources from the rules file and the app's environment) → sources/ (service
/metrics, Prometheus, PostgreSQL/SQLite, Redis, object store, billing) → evaluate.py (levels, with
window.py's sustained windows over history.py's SQLite file) → trends.py → verdict.py (exit code, next
phase, commands) → run.py (one check, `--watch`, notify.py's webhook) → report.py / cli.py.
"""
