"""The SQLite undo journal: recorded before sending, completed after, undo candidates, CSV hand-over export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from console.journal import BatchKind, Change, Journal, Outcome


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


async def _edit(journal: Journal, key: str, old, new, outcome=Outcome.WRITTEN, kind=BatchKind.EDIT, reverts=None):
    batch = await journal.start_batch(profile="site", server="tb", kind=kind, title=f"set {key}", reverts=reverts)
    ids = await journal.record(batch, [Change(entity_id="d1", entity_name="Pump 1", scope="SHARED_SCOPE", key=key,
                                              old=old, new=new)])
    await journal.complete(ids, outcome, "" if outcome is Outcome.WRITTEN else "boom")
    return batch


async def test_entries_are_pending_until_completed_and_keep_types(journal: Journal) -> None:
    batch = await journal.start_batch(profile="site", server="tb", kind=BatchKind.BULK, title="bulk")
    ids = await journal.record(
        batch,
        [
            Change(entity_id="d1", scope="SHARED_SCOPE", key="a", old=1, new=1.0),
            Change(entity_id="d2", scope="SHARED_SCOPE", key="b", old=None, new={"x": [True, None]}),
        ],
    )
    pending = await journal.entries(batch)
    assert [e.outcome for e in pending] == [Outcome.PENDING, Outcome.PENDING]
    assert type(pending[0].old) is int and type(pending[0].new) is float
    assert pending[1].old is None and pending[1].new == {"x": [True, None]}
    await journal.complete(ids[:1], Outcome.WRITTEN)
    await journal.complete(ids[1:], Outcome.FAILED, "Forbidden")
    done = await journal.entries(batch)
    assert [e.outcome for e in done] == [Outcome.WRITTEN, Outcome.FAILED]
    assert done[1].message == "Forbidden" and done[1].completed_ms is not None
    info = await journal.batch(batch)
    assert info is not None and (info.written, info.failed, info.total) == (1, 1, 2)


async def test_journal_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = Journal(path)
    await _edit(first, "fw", "1.0", "1.1")
    first.close()
    second = Journal(path)
    try:
        history = await second.history(entity_id="d1")
        assert [(e.key, e.old, e.new) for e in history] == [("fw", "1.0", "1.1")]
    finally:
        second.close()


async def test_last_undoable_skips_failed_and_reverted_batches(journal: Journal) -> None:
    assert await journal.last_undoable(profile="site", server="tb") is None
    first = await _edit(journal, "a", None, 1)
    second = await _edit(journal, "b", 1, 2)
    await _edit(journal, "c", 1, 2, outcome=Outcome.FAILED)
    last = await journal.last_undoable(profile="site", server="tb")
    assert last is not None and last.id == second
    await _edit(journal, "b", 2, 1, kind=BatchKind.REVERT, reverts=second)
    last = await journal.last_undoable(profile="site", server="tb")
    assert last is not None and last.id == first
    assert await journal.last_undoable(profile="other", server="tb") is None


async def test_history_filters_by_device_and_profile_newest_first(journal: Journal) -> None:
    await _edit(journal, "a", None, 1)
    batch = await journal.start_batch(profile="other", server="tb", kind=BatchKind.EDIT, title="x")
    await journal.record(batch, [Change(entity_id="d9", scope="SERVER_SCOPE", key="z", new="v")])
    await _edit(journal, "b", None, 2)
    assert [e.key for e in await journal.history(profile="site")] == ["b", "a"]
    assert [e.key for e in await journal.history(entity_id="d9")] == ["z"]
    assert len(await journal.history()) == 3


async def test_csv_export_is_a_readable_hand_over_report(journal: Journal, tmp_path: Path) -> None:
    await _edit(journal, "target", 21.5, 22.0)
    await _edit(journal, "mode", "eco", None)
    await _edit(journal, "cfg", None, {"a": 1}, outcome=Outcome.FAILED)
    out = tmp_path / "report" / "journal.csv"
    assert await journal.export_csv(out, profile="site") == 3
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["key"] for r in rows] == ["target", "mode", "cfg"]
    assert rows[0]["old value"] == "21.5" and rows[0]["new value"] == "22.0"
    assert rows[1]["new value"] == "(deleted)" and rows[2]["old value"] == "(missing)"
    assert rows[2]["outcome"] == "failed" and rows[2]["message"] == "boom"
    assert rows[0]["device"] == "Pump 1" and rows[0]["time (UTC)"]


def test_default_path_is_in_the_platform_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from console import journal as module

    monkeypatch.setattr(module.platformdirs, "user_data_path", lambda *a, **k: tmp_path / "data")
    assert module.default_journal_path() == tmp_path / "data" / "journal.sqlite3"


def test_journal_opens_lazily_and_honours_the_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from console import journal as module

    target = tmp_path / "elsewhere" / "j.sqlite3"
    monkeypatch.setenv("THINGSCOPE_JOURNAL", str(target))
    j = module.Journal()
    assert j.path == target and not target.exists()  # nothing is created until the journal is used
    j.close()
