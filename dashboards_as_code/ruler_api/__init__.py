"""The metrics engine's ruler (Cortex): where the rule groups go when `metrics_engine` is set.

Prometheus loads the rule file `build` writes; Cortex's ruler keeps rule groups per tenant and takes
them through its HTTP API, one group per request. `push-rules` plans and applies them as `push` does
Grafana's objects (create / update / unchanged / conflict / delete, a backup before any overwrite or
delete), with the same `Action` and report, so its output reads like push's:

- `groups`: the pure part: the form two groups are compared in, and the marker group that records
  what the last push wrote (the ruler's API has no version or owner field of its own);
- `client`: the HTTP requests, and their failures as messages;
- `sync`: the plan and its application.
"""
