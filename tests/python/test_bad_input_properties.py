"""Property-based: raw exports that mix valid rows with garbage.

For any such input the build succeeds (bad rows are quarantined, never an
engine error), every raw row is accounted for, and the marts equal what the
reference computes from the same text. Each example is a full `dbt build`
(about 20 s), so the default profile runs a few derandomized examples;
PIPELINE_HYPOTHESIS_PROFILE=deep runs many more, randomly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dbt_project_harness import REPO, DbtProject, write_csv
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mart_checks import assert_marts_match
from reference import compute_marts, read_csv_rows

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

settings.register_profile(
    "ci",
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("PIPELINE_HYPOTHESIS_PROFILE", "ci")

STAGES = ["qualification", "discovery", "meeting", "proposal", "closed_won", "closed_lost"]
LEAD_IDS = [f"L{number}" for number in range(1, 9)]


# Valid values in the shapes exports write them, and the garbage they hold.
def timestamps(first_month: int, last_month: int):
    """ISO-8601 texts in 2025 between the two months, in five shapes."""
    return st.builds(
        lambda month, day, hour, minute, shape: shape.format(
            month=month, day=day, hour=hour, minute=minute
        ),
        st.integers(first_month, last_month),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from(
            [
                "2025-{month:02d}-{day:02d}",
                "2025-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00",
                "2025-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z",
                "2025-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+02:00",
                "2025-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:30.5-05:00",
                "2025-{month:02d}-{day:02d}t{hour:02d}:{minute:02d}+0530",
                "2025-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00z",
            ]
        ),
    )


# Leads are created in January; stage changes spread over months, so some
# leads sit in a stage long enough to be old.
creation_timestamps = timestamps(1, 1)
valid_timestamps = timestamps(2, 6)
bad_timestamps = st.sampled_from(
    [
        "",
        "   ",
        "03/01/2025",
        "2025-02-30",
        "2025-13-01",
        "not a date",
        "2025-03-01T24:00:00",
        "2025-03-01Z",
        "2025-03-01 10:00:00 Z",
        "2025-3-1",
    ]
)
free_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from([",", '"', "\n"]),
    max_size=8,
)
lead_ids = st.sampled_from(LEAD_IDS) | st.sampled_from(["", "  ", " L1 ", "X-ORPHAN"])
amounts = st.sampled_from(["", "100", "2500.50", " 40 ", "0", "-5", "1,000", "12k", "1e3", "nan"])
stage_keys = st.sampled_from(STAGES) | st.sampled_from(["Qualification ", "DISCOVERY", "", "demo"])


def lead_rows():
    """Good leads (one row per id, created before any stage change) and garbage rows."""
    good = st.fixed_dictionaries(
        {
            "lead_id": st.sampled_from(LEAD_IDS),
            "created_at": creation_timestamps,
            "lead_source": st.sampled_from(["inbound", " Referral", ""]),
            "segment": st.sampled_from(["smb", "enterprise", ""]),
            "owner_id": st.sampled_from(["rep_01", "rep_02"]),
            "deal_amount_usd": st.sampled_from(["", "100", "2500.50", " 40 ", "0"]),
        }
    )
    garbage = st.fixed_dictionaries(
        {
            "lead_id": lead_ids,
            "created_at": st.one_of(valid_timestamps, bad_timestamps),
            "lead_source": free_text,
            "segment": st.sampled_from(["smb", "enterprise", ""]),
            "owner_id": free_text,
            "deal_amount_usd": amounts,
        }
    )
    return st.tuples(
        st.lists(good, min_size=2, max_size=len(LEAD_IDS), unique_by=lambda row: row["lead_id"]),
        st.lists(garbage, max_size=5),
    ).map(lambda parts: parts[0] + parts[1])


def transition_rows():
    """Mostly usable stage changes of the good leads, some garbage."""
    good = st.fixed_dictionaries(
        {
            "lead_id": st.sampled_from(LEAD_IDS),
            "stage_key": st.sampled_from(STAGES),
            "entered_at": valid_timestamps,
        }
    )
    garbage = st.fixed_dictionaries(
        {
            "lead_id": lead_ids,
            "stage_key": stage_keys,
            "entered_at": st.one_of(valid_timestamps, bad_timestamps),
        }
    )
    return st.lists(st.one_of(good, good, good, garbage), min_size=4, max_size=40)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    root = tmp_path_factory.mktemp("properties")
    project = DbtProject.copy_of_repo(root / "project")
    project.vars = {"raw_path": str(root / "exports"), "max_rejected_share": 1}
    return project


@settings(settings.get_profile(PROFILE))
@given(
    leads=lead_rows(),
    transitions=transition_rows(),
    duplicated=st.integers(0, 5),
)
def test_any_mix_of_rows_builds_accounts_for_every_row_and_matches_the_reference(
    project: DbtProject, leads, transitions, duplicated
):
    exports = Path(project.vars["raw_path"])
    # Exact copies of some rows, as CRM exports repeat them.
    transitions = transitions + transitions[:duplicated]
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)

    # Every example rewrites the same files: exports the warehouse treats as
    # append-only (a refresh never re-reads a file), so each build is full.
    result = project.dbt("build", "--full-refresh", check=False)
    assert result.returncode == 0, result.stdout[-4000:]

    counted = {
        row["table_name"]: row["rows"]
        for row in project.query(
            "select table_name, sum(row_count) as rows from marts.rpt_data_quality group by 1"
        )
    }
    assert counted.get("raw_leads", 0) == len(leads)
    assert counted.get("raw_lead_transitions", 0) == len(transitions)

    # The reference reads the files as written, like the warehouse.
    config = {
        name: read_csv_rows(REPO / "seeds" / "config" / f"{name}.csv")
        for name in ("pipeline_stages", "stage_benchmarks", "revenue_targets")
    }
    expected = compute_marts(
        read_csv_rows(exports / "raw_leads.csv"),
        read_csv_rows(exports / "raw_lead_transitions.csv"),
        config["pipeline_stages"],
        config["stage_benchmarks"],
        config["revenue_targets"],
    )
    event("some visits" if expected["fct_lead_stage_visits"] else "no visits")
    event("some old leads" if expected["rpt_old_leads"] else "no old leads")
    assert_marts_match(project, expected)
