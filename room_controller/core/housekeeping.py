"""The room's wall-clock jobs, on APScheduler (the only module that imports it): the nightly journal backup,
the retention policy, and the journal's tidying.

These are what APScheduler is made for: calendar times of day. The session clock stays on the room's own
monotonic timer, since APScheduler trusts the wall clock, which NTP steps on a computer without a real-time
clock. Each job is idempotent, so a step that runs one twice or a little late does no harm, and a missed
night is run once at the next start within a day (coalesced). Journal writes run on the core loop, which owns
the journal's connection; the backup reads through a connection of its own. A job that fails is logged and
shown as a problem until it next succeeds; `/api/health` lists each job's next and last run.

It is given only what it uses (app.App wires it): the retention policy, the journal it backs up, tidies and
deletes from, the core loop its journal work runs on, the clock, the room's problems (a failed job), and the
room's `emit` (journal the sessions deleted) and `touch` (a new snapshot).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

if TYPE_CHECKING:
    from room_controller.core.loop import Loop
    from room_controller.infrastructure.clock import Clock
    from room_controller.journal.store import Journal

log = logging.getLogger(__name__)

BACKUPS = "backups"
BACKUPS_KEPT = 7           # a week of nights
SCHEDULE = {"journal_backup": {"hour": 3, "minute": 0}, "retention": {"hour": 3, "minute": 30},
            "tidy": {"hour": 4, "minute": 0}}


class Housekeeping:
    def __init__(self, retention_days: int | None, *, journal: Journal, loop: Loop, clock: Clock,
                 problems: dict[str, str], emit: Callable[..., bool], touch: Callable[[], None],
                 schedule: dict[str, Any] | None = None) -> None:
        """`schedule`: a trigger per job id (tests use short intervals); by default nightly (SCHEDULE)."""
        self.journal, self.retention_days = journal, retention_days
        self._loop, self._clock, self._problems, self._emit, self._touch = loop, clock, problems, emit, touch
        self.folder = Path(self.journal.path).parent / BACKUPS
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": 24 * 3600})
        self.outcomes: dict[str, dict] = {}
        triggers = schedule or {job: CronTrigger(**when) for job, when in SCHEDULE.items()}
        for job, run in (("journal_backup", self.back_up), ("retention", self.retain), ("tidy", self.tidy)):
            self.scheduler.add_job(self._guarded(job, run), triggers[job], id=job, name=job)

    def start(self) -> Housekeeping:
        self.scheduler.start()
        return self

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)

    def jobs(self) -> list[dict]:
        """For /api/health: each job, when it runs next, and how its last run went."""
        return [{"id": job.id, "next_run": _iso(job.next_run_time), **self.outcomes.get(job.id, {})}
                for job in self.scheduler.get_jobs()]

    # -- the jobs ----------------------------------------------------------------------------------------------

    def back_up(self) -> str:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        target = self.folder / f"journal-{time.strftime('%Y%m%d-%H%M%S')}.db"
        self.journal.backup(target)
        old = sorted(self.folder.glob("journal-*.db"))[:-BACKUPS_KEPT]
        for path in old:
            path.unlink()
        return f"{target.name}, {len(old)} older removed"

    def retain(self) -> str:
        if self.retention_days is None:
            return "retention_days not set: every session kept"
        return self._loop.call(self._delete_old, timeout=60)

    def _delete_old(self) -> str:
        days = self.retention_days
        assert days is not None   # retain() asks only then
        before = self._clock.wall() - days * 86400
        deleted = self.journal.delete_sessions_ended_before(before)
        if deleted:
            self._emit("sessions_deleted", sessions=deleted, retention_days=self.retention_days,
                           ended_before=before)
        return f"{len(deleted)} session(s) older than {self.retention_days} days deleted"

    def tidy(self) -> str:
        self._loop.call(self.journal.tidy, timeout=60)
        return "journal tidied"

    def _guarded(self, job: str, run: Callable[[], str]) -> Callable[[], None]:
        def guarded() -> None:
            started = datetime.now().astimezone()
            try:
                result = run()
            except Exception as exc:   # noqa: BLE001 - a failed night is shown, and the next night tries again
                log.exception("housekeeping job %s failed", job)
                text = f"{type(exc).__name__}: {exc}"
                self.outcomes[job] = {"last_run": _iso(started), "last_outcome": f"failed: {text}"}
                self._problem(job, f"the nightly {job.replace('_', ' ')} failed: {text}")
                return
            log.info("housekeeping %s: %s", job, result)
            self.outcomes[job] = {"last_run": _iso(started), "last_outcome": result}
            self._problem(job, None)
        return guarded

    def _problem(self, job: str, text: str | None) -> None:
        def show() -> None:
            key = f"housekeeping:{job}"
            if text is None:
                self._problems.pop(key, None)
            else:
                self._problems[key] = text
            self._touch()
        self._loop.submit(show)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
