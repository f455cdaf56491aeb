"""What the engine knows about PromQL, in one room: `tree.py` reads expressions as Prometheus does
(after Grafana fills in its variables) and walks them with typed operators and matchers;
`series_catalog.py` says which series exist (the contract's and the recording rules'), with their
labels. Lint's checks and `doctor`'s diagnosis both ask here.
"""
