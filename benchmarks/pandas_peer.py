"""The peer: fct_stage_conversion the way an analyst would compute it in a
pandas notebook, vectorised (no Python loops over rows), from the same
Parquet files. Like the floor it assumes clean exports.

    python benchmarks/pandas_peer.py <exports folder> <pipeline_stages.csv> [factor]

prints one JSON line per open stage.
"""

from __future__ import annotations

import glob
import json
import sys

import numpy as np
import pandas as pd


def pandas_conversion(
    exports: str, stages_csv: str, factor: float = 2.0
) -> list[dict[str, object]]:
    stages = pd.read_csv(stages_csv, dtype=str, keep_default_na=False)
    stages["stage_order"] = pd.to_numeric(stages["stage_order"], errors="coerce")
    stages["default_expected_days"] = pd.to_numeric(
        stages["default_expected_days"], errors="coerce"
    )
    stages["is_lost"] = stages["stage_type"] == "lost"
    stages = stages.sort_values(["is_lost", "stage_order", "stage_key"], na_position="last")
    stages["tie_rank"] = np.arange(len(stages))
    order = stages.set_index("stage_key")["stage_order"]
    kind = stages.set_index("stage_key")["stage_type"]

    files = sorted(glob.glob(f"{exports}/raw_lead_transitions*.parquet"))
    events = pd.concat([pd.read_parquet(path) for path in files], ignore_index=True)
    events["lead_id"] = events["lead_id"].str.strip()
    events["stage_key"] = events["stage_key"].str.strip().str.lower()
    events["entered_at"] = pd.to_datetime(events["entered_at"], utc=True).dt.tz_localize(None)
    events = events.drop_duplicates()
    as_of_at = events["entered_at"].max().normalize() + pd.Timedelta(days=1)

    events["tie_rank"] = events["stage_key"].map(stages.set_index("stage_key")["tie_rank"])
    events = events.sort_values(["lead_id", "entered_at", "tie_rank"], ignore_index=True)
    same_lead = events["lead_id"].eq(events["lead_id"].shift())
    starts = ~(same_lead & events["stage_key"].eq(events["stage_key"].shift()))
    visits = events[starts].reset_index(drop=True)

    next_same_lead = visits["lead_id"].eq(visits["lead_id"].shift(-1))
    visits["next_stage"] = visits["stage_key"].shift(-1).where(next_same_lead)
    visits["exited_at"] = visits["entered_at"].shift(-1).where(next_same_lead)
    visits["visit_number"] = visits.groupby("lead_id").cumcount()
    visits["stage_order"] = visits["stage_key"].map(order)
    visits["stage_type"] = visits["stage_key"].map(kind)
    next_order = visits["next_stage"].map(order)
    next_type = visits["next_stage"].map(kind)
    visits["exit_type"] = np.select(
        [
            (visits["stage_type"] == "lost") & next_type.notna() & (next_type != "lost"),
            next_type == "lost",
            next_order > visits["stage_order"],
            next_order < visits["stage_order"],
            visits["next_stage"].isna(),
        ],
        ["reopened", "lost", "advanced", "regressed", "open"],
        default=None,
    )

    advanced_visits = visits[visits["exit_type"] == "advanced"]
    dwell = (
        advanced_visits["exited_at"] - advanced_visits["entered_at"]
    ).dt.total_seconds() / 86400
    expected = (factor * dwell.groupby(advanced_visits["stage_key"]).mean()).reindex(
        stages["stage_key"]
    )
    expected = expected.fillna(stages.set_index("stage_key")["default_expected_days"])

    # Highest stage_order among each visit's later visits (reverse cumulative max).
    lead_reversed = visits["lead_id"][::-1]
    later = visits["stage_order"][::-1].groupby(lead_reversed).shift().fillna(-1)
    visits["max_later_order"] = later.groupby(lead_reversed).cummax()[::-1]
    last = visits.groupby("lead_id").tail(1).set_index("lead_id")

    open_visits = visits[visits["stage_type"] == "open"]
    first = open_visits.drop_duplicates(["lead_id", "stage_key"]).copy()
    first["advanced"] = first["max_later_order"] > first["stage_order"]
    first["current_stage"] = first["lead_id"].map(last["stage_key"])
    first["current_entered_at"] = first["lead_id"].map(last["entered_at"])
    first["completed"] = first["advanced"] | (first["current_stage"] != first["stage_key"])
    days_in_stage = (as_of_at - first["current_entered_at"]).dt.total_seconds() / 86400
    first["old"] = ~first["completed"] & (days_in_stage > first["stage_key"].map(expected))
    first["in_window"] = ~first["completed"] & ~first["old"]
    counts = first.groupby("stage_key").agg(
        leads_entered=("lead_id", "size"),
        leads_advanced=("advanced", "sum"),
        leads_completed=("completed", "sum"),
        leads_old=("old", "sum"),
        leads_in_window=("in_window", "sum"),
    )
    denominator = counts["leads_completed"] + counts["leads_old"]
    counts["conversion_rate"] = (counts["leads_advanced"] / denominator).where(denominator > 0)
    counts = counts.sort_index().astype(object).where(counts.notna(), None)
    return [{"stage_key": key, **row} for key, row in counts.to_dict("index").items()]


if __name__ == "__main__":
    rows = pandas_conversion(
        sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    )
    for row in rows:
        print(json.dumps(row))
