"""Requests a refresh when the raw export files change."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.project import watched_raw_folder
from orchestration.schedules import refresh_job, refresh_run_config

RAW_TABLES = ("raw_leads", "raw_lead_transitions")


def export_fingerprints(folder: Path) -> dict[str, list[int]]:
    """Size and modification time of every raw export file in the folder."""
    fingerprints = {}
    for path in sorted(folder.glob("raw_*")):
        if path.is_file() and path.name.startswith(RAW_TABLES):
            stat = path.stat()
            fingerprints[path.name] = [stat.st_size, stat.st_mtime_ns]
    return fingerprints


@sensor(job=refresh_job, minimum_interval_seconds=60)
def raw_exports_sensor(context: SensorEvaluationContext):
    """New, changed or removed export files request one refresh as of today;
    unchanged files request nothing. The cursor keeps the last fingerprints."""
    folder = watched_raw_folder()
    current = export_fingerprints(folder)
    previous = json.loads(context.cursor) if context.cursor else None
    if current == previous:
        return SkipReason(f"no change in {folder}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not current:
        return SkipReason(f"no raw export files in {folder}")
    changed = sorted(name for name in current if (previous or {}).get(name) != current[name])
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    as_of_date = datetime.now(UTC).date().isoformat()
    context.log.info(f"raw exports changed: {', '.join(changed) or 'files removed'}")
    return RunRequest(run_key=run_key, run_config=refresh_run_config(as_of_date))
