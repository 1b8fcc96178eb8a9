"""APScheduler's wall-clock jobs on short real intervals: the journal backup (SQLite's online backup, a
copy that opens and holds what was written), retention (old sessions deleted, journaled), the tidying, and
each job's next and last run in /api/health; a failing job shows as a problem."""

from __future__ import annotations

import sqlite3
import time

import pytest
import requests
from apscheduler.triggers.interval import IntervalTrigger

from room_controller.core.housekeeping import Housekeeping
from tests.hardening.conftest import AUTH


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def often(seconds: float = 0.5) -> dict:
    return {job: IntervalTrigger(seconds=seconds) for job in ("journal_backup", "retention", "tidy")}


def keeping_often(app, retention_days: int | None) -> Housekeeping:
    """The served room's housekeeping, stopped, and one on short intervals made as app.App makes it."""
    app.housekeeping.stop()
    room = app.room
    return Housekeeping(retention_days, journal=room.journal, loop=room.loop, clock=room.clock,
                        problems=room.problems, emit=room.emit, touch=room.touch, schedule=often())


@pytest.mark.slow
def test_the_nightly_jobs_are_listed_in_health(served):
    jobs = {job["id"]: job for job in requests.get(f"{served.base}/api/health").json()["jobs"]}
    assert set(jobs) == {"journal_backup", "retention", "tidy"}
    assert all(job["next_run"] for job in jobs.values())
    assert jobs["journal_backup"]["next_run"][11:16] == "03:00"


@pytest.mark.slow
def test_backup_retention_and_tidying_run_on_their_schedule(served):
    app = served.app
    assert requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    assert requests.post(f"{served.base}/api/notes", headers=AUTH, json={"text": "old session"}).ok
    assert requests.post(f"{served.base}/api/session/stop", headers=AUTH).ok
    served.clock.step_wall(40 * 86400)    # forty days on
    assert requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    keeping = keeping_often(app, retention_days=30)
    app.room.housekeeping = keeping
    keeping.start()
    try:
        wait_until(lambda: all("last_outcome" in job for job in keeping.jobs()))
        outcomes = {job["id"]: job["last_outcome"] for job in requests.get(f"{served.base}/api/health").json()["jobs"]}
        assert outcomes["retention"].endswith("older than 30 days deleted")
        with app.journal.reader() as reader:
            sessions = reader.sessions()
        assert [s["id"] for s in sessions] == [2]   # the ended one forty days ago is gone, the running one kept
        backups = sorted((app.journal.path.parent / "backups").glob("journal-*.db"))
        assert backups and (backups[-1].stat().st_mode & 0o777) == 0o600
        with sqlite3.connect(f"file:{backups[-1]}?mode=ro", uri=True) as copy:
            kinds = {r[0] for r in copy.execute("SELECT kind FROM events")}
        assert "session_started" in kinds and copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with app.journal.reader() as reader:
            deleted = [r for r in reader.events(2) if r.kind == "sessions_deleted"]
        assert deleted and deleted[0].data["sessions"] == [1]
    finally:
        keeping.stop()


@pytest.mark.slow
def test_a_failing_job_is_a_problem_until_it_succeeds(served):
    app = served.app
    keeping = keeping_often(app, retention_days=None)
    keeping.folder = app.journal.path   # a file where the backups folder should be: the backup fails
    keeping.start()
    try:
        wait_until(lambda: any("journal backup failed" in p for p in app.room.problems.values()))
        keeping.folder = app.journal.path.parent / "backups"
        wait_until(lambda: not any("backup" in p for p in app.room.problems.values()))
    finally:
        keeping.stop()
