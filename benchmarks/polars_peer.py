"""The Polars peer: fct_stage_conversion in Polars' lazy API, from the same
Parquet files, as a data engineer would write it (one query plan, collected
once; expressions and window `over`, no Python loops over rows). Like the
floor it assumes clean exports with UTC timestamps ('...Z', as the scale
generator writes them).

    python benchmarks/polars_peer.py <exports folder> <pipeline_stages.csv> [factor]

prints one JSON line per open stage.
"""

from __future__ import annotations

import json
import sys

import polars as pl

DAY_US = 86_400_000_000


def polars_conversion(
    exports: str, stages_csv: str, factor: float = 2.0
) -> list[dict[str, object]]:
    stages = (
        pl.read_csv(stages_csv, infer_schema=False)
        .with_columns(
            pl.col("stage_order").cast(pl.Int64, strict=False),
            pl.col("default_expected_days").cast(pl.Float64, strict=False),
        )
        # Events at one instant: by stage_order, lost stages last, then key.
        .sort(pl.col("stage_type") == "lost", "stage_order", "stage_key", nulls_last=True)
        .with_row_index("tie_rank")
        .select(
            "stage_key",
            "tie_rank",
            "stage_order",
            "default_expected_days",
            is_open=pl.col("stage_type") == "open",
            is_lost=pl.col("stage_type") == "lost",
        )
        .lazy()
    )

    events = (
        pl.scan_parquet(f"{exports}/raw_lead_transitions*.parquet")
        .select(
            pl.col("lead_id").str.strip_chars(),
            pl.col("stage_key").str.strip_chars().str.to_lowercase(),
            entered_us=pl.col("entered_at")
            .str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us")
            .dt.epoch("us"),
        )
        .join(stages.select("stage_key", "tie_rank", "stage_order"), on="stage_key")
        .sort("lead_id", "entered_us", "tie_rank")
    )
    # A visit starts where the lead's stage changes: exact duplicates and
    # re-saves of the same stage fall away without a unique() pass.
    new_lead = pl.col("lead_id") != pl.col("lead_id").shift()
    visits = (
        events.filter(
            (new_lead | (pl.col("tie_rank") != pl.col("tie_rank").shift())).fill_null(True)
        )
        .with_columns(has_next=(pl.col("lead_id") == pl.col("lead_id").shift(-1)).fill_null(False))
        .with_columns(
            exited_us=pl.when("has_next").then(pl.col("entered_us").shift(-1)),
            next_tie_rank=pl.when("has_next").then(pl.col("tie_rank").shift(-1)),
            # Highest stage_order among the lead's later visits.
            max_later_order=pl.col("stage_order").cum_max(reverse=True).shift(-1).over("lead_id"),
        )
        .join(
            stages.select(
                next_tie_rank="tie_rank", next_order="stage_order", next_is_lost="is_lost"
            ),
            on="next_tie_rank",
            how="left",
        )
        .join(stages.select("tie_rank", "is_open"), on="tie_rank")
        .filter("is_open")
        .with_columns(
            is_advanced=(
                ~pl.col("next_is_lost") & (pl.col("next_order") > pl.col("stage_order"))
            ).fill_null(False)
        )
    )

    thresholds = (
        stages.filter("is_open")
        .join(
            visits.filter("is_advanced")
            .group_by("stage_key")
            .agg(mean_dwell_us=(pl.col("exited_us") - pl.col("entered_us")).mean()),
            on="stage_key",
            how="left",
        )
        .select(
            "stage_key",
            expected_days=(factor * pl.col("mean_dwell_us") / DAY_US).fill_null(
                pl.col("default_expected_days")
            ),
        )
    )
    as_of_us = events.select(
        (pl.col("entered_us").max() // DAY_US + 1) * DAY_US  # the end of the latest event's day
    )

    counts = (
        visits.group_by("lead_id", "stage_key")
        .agg(
            # The lead's first visit of the stage decides "advanced"; its
            # current visit (the lead's last) is the one that ages.
            advanced=(pl.col("max_later_order") > pl.col("stage_order"))
            .sort_by("entered_us")  # joins do not keep row order
            .first()
            .fill_null(False),
            current_entered_us=pl.col("entered_us").filter(~pl.col("has_next")).first(),
        )
        .join(thresholds, on="stage_key")
        .join(as_of_us.select(as_of_us="entered_us"), how="cross")
        .with_columns(
            completed=pl.col("advanced") | pl.col("current_entered_us").is_null(),
            over_threshold=(
                (pl.col("as_of_us") - pl.col("current_entered_us")) / DAY_US
                > pl.col("expected_days")
            ).fill_null(False),
        )
        .group_by("stage_key")
        .agg(
            leads_entered=pl.len(),
            leads_advanced=pl.col("advanced").sum(),
            leads_completed=pl.col("completed").sum(),
            leads_old=(~pl.col("completed") & pl.col("over_threshold")).sum(),
            leads_in_window=(~pl.col("completed") & ~pl.col("over_threshold")).sum(),
        )
        .with_columns(
            conversion_rate=pl.col("leads_advanced")
            / pl.when((pl.col("leads_completed") + pl.col("leads_old")) > 0).then(
                pl.col("leads_completed") + pl.col("leads_old")
            )
        )
        .sort("stage_key")
    )
    return counts.collect().to_dicts()


if __name__ == "__main__":
    rows = polars_conversion(
        sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    )
    for row in rows:
        print(json.dumps(row))
