"""Export files of a few hundred generated leads, for the tests that build
on the team's own exports (export files, hostile input)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dbt_project_harness import REPO, write_csv

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages

STAGES = read_stages(REPO / "seeds/config/pipeline_stages.csv")
# Seeds and models, no data or unit tests (other builds run those).
MODELS_ONLY = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def small_exports(seed: int = 3, leads: int = 120):
    """Six months of clean leads (no edge cases), minute timestamps: quick to build."""
    return generate(
        leads,
        seed=seed,
        stages=STAGES,
        start=dt.date(2025, 1, 1),
        months=6,
        edge_case_rate=0,
        timestamp_granularity="minute",
    )


def write_base_exports(exports: Path) -> tuple[list[dict], list[dict]]:
    """raw_leads.csv and the stage changes split over two files."""
    leads, transitions = small_exports(seed=12, leads=200)
    half = len(transitions) // 2
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions_1.csv", transitions[:half], TRANSITION_COLUMNS)
    write_csv(exports / "raw_lead_transitions_2.csv", transitions[half:], TRANSITION_COLUMNS)
    return leads, transitions
