"""Dashboard definitions: one module per dashboard, each with a `dashboard()` function.

Add a dashboard by adding a module here; `python build.py build` finds it. Folders live below.
"""

from machinery.definitions import Folder

TIKTICKETS = Folder(uid="tiktickets", title="TikTickets")
