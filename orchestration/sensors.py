"""Requests a refresh when the raw export files change."""

import hashlib
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.assets import PipelineInputs
from orchestration.schedules import refresh_job, refresh_run_config
from sales_pipeline.build_inputs import (
    REPO_ROOT,
    WarehouseInUse,
    export_fingerprints,
    published_record,
    rebuild_reason,
)
from sales_pipeline.publish import published_warehouse


def watched_folder(inputs: PipelineInputs) -> Path:
    """The folder whose exports the sensor watches: raw_path, else the demo seeds."""
    return Path(inputs.raw_path or REPO_ROOT / "seeds" / "raw")


@sensor(job=refresh_job, minimum_interval_seconds=60)
def raw_exports_sensor(context: SensorEvaluationContext, pipeline_inputs: PipelineInputs):
    """New, changed or removed export files request one refresh as of today;
    unchanged files request nothing. The cursor keeps the last fingerprints
    (size and modification time of each raw_leads* / raw_lead_transitions*
    file). The refresh decides what it rebuilds as every refresh does
    (sales_pipeline.publish): only the new files when the files it read are
    unchanged, from scratch after a loaded file changed or disappeared; the
    request carries that decision in its tags, for the UI."""
    folder = watched_folder(pipeline_inputs)
    current = export_fingerprints(folder)
    previous = json.loads(context.cursor) if context.cursor else None
    if current == previous:
        return SkipReason(f"no change in {folder}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not current:
        return SkipReason(f"no raw export files in {folder}")
    changed = sorted(name for name in current if (previous or {}).get(name) != current[name])
    removed = sorted(set(previous or {}) - set(current))
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    # Today in the business time zone the refresh counts days in.
    zone = ZoneInfo(pipeline_inputs.build_inputs().resolved().business_time_zone or "UTC")
    as_of_date = datetime.now(zone).date().isoformat()
    published = published_warehouse()
    reason = None
    if published.exists():
        try:
            recorded = published_record(published)
        except WarehouseInUse as in_use:
            return SkipReason(str(in_use))
        reason = rebuild_reason(recorded, pipeline_inputs.build_inputs().record())
    refresh = f"from scratch: {reason}" if reason else "incremental"
    context.log.info(
        f"raw exports changed: {', '.join(changed + removed) or 'files removed'}; refresh {refresh}"
    )
    return RunRequest(
        run_key=run_key,
        run_config=refresh_run_config(as_of_date),
        tags={"pipeline/refresh": refresh[:200]},
    )
