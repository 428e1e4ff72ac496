"""The panes of the main screen, one module each; imported from here by older callers.

Widgets only display what the app hands them: they never do I/O.
"""

from __future__ import annotations

from console.tui.agency_table import AgencyTable
from console.tui.detail_pane import DetailPane
from console.tui.groups_pane import GroupsPane
from console.tui.progress_pane import ProgressPane
from console.tui.topbar import TopBar

__all__ = ["AgencyTable", "DetailPane", "GroupsPane", "ProgressPane", "TopBar"]
