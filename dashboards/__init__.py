"""Dashboard definitions: one module per dashboard, each with a `dashboard()` function.

Add a dashboard by adding a module here; `python build.py build` finds it. Folders and dashboard
uids live in config.py.
"""
