"""The dashboard table: title, created, assigned customers, public; paged in like the device table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt

from console.fleet import DashboardRow, Fleet, Page
from ui.models.paged import IdRole, PagedTableModel, RowRole
from ui.tasks import TaskManager

__all__ = ["DashboardTableModel", "IdRole", "RowRole", "export_dashboard_json"]


class DashboardTableModel(PagedTableModel):
    """Dashboards matching a server-side text search."""

    columns: ClassVar = (
        ("created_time", "Created time"),
        ("title", "Title"),
        ("customers", "Assigned customers"),
        ("public", "Public"),
    )
    page_size = 100
    task_title = "Loading dashboards"
    extra_roles: ClassVar = frozenset({Qt.ItemDataRole.TextAlignmentRole})

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(tasks, parent)
        self._fleet: Fleet | None = None
        self._text = ""

    @property
    def fleet(self) -> Fleet | None:
        return self._fleet

    def set_fleet(self, fleet: Fleet | None) -> None:
        self._fleet = fleet
        self.reload()

    def set_search_text(self, text: str) -> None:
        if text.strip() != self._text:
            self._text = text.strip()
            self.reload()

    def _ready(self) -> bool:
        return self._fleet is not None

    async def _fetch(self, page: int) -> Page:
        assert self._fleet is not None
        return await self._fleet.list_dashboards(self._text, page, self.page_size)

    def _display(self, row: DashboardRow, field: str) -> str:
        if field == "customers":
            return ", ".join(row.customers)
        if field == "public":
            return "Yes" if row.public else ""
        return super()._display(row, field)

    def _extra_data(self, row: DashboardRow, field: str, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and field == "public":
            return Qt.AlignmentFlag.AlignCenter
        return None


async def export_dashboard_json(fleet: Fleet, dashboard_id: str, path: Path) -> int:
    """Save the dashboard's JSON exactly as the server returned it; returns the byte count."""
    body = await fleet.dashboard_json(dashboard_id)
    await asyncio.to_thread(path.write_bytes, body)
    return len(body)
