"""The scenario of an incremental refresh against a full refresh, for
test_incremental_refresh (export files) and tests/engines/test_refresh_by_batch
(a loader's batches): assert_refresh_equals_full_refresh.

Scale data is split into base files and two increments. One warehouse is
built from the base files, then again after each increment is added
(`dbt build`); another is built once from all the files
(`dbt build --full-refresh`). Every mart in the marts schema (the published
ones, the quarantines, rpt_data_quality) must then hold the same columns and
the same rows in both, floats bit for bit, the history
fct_stage_conversion_daily (every day of it) included.

The second increment also brings bad input that reaches back into rows
built before: a copy of a base row in another file (one visit, two source
rows), a blank lead_id, an unknown stage, a new stage change on the newest
day for a lead last seen in the base files, and a second, conflicting row for
a base lead, which quarantines the lead and its already accepted changes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb
from dbt_project_harness import PUBLISHED_MARTS, REPO, DbtProject

from sales_pipeline import scale_data
from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

STAGES = REPO / "seeds/config/pipeline_stages.csv"
FORMAT = "parquet"
# Marts that must exist, whatever else the marts schema holds.
REQUIRED_MARTS = [
    *PUBLISHED_MARTS,
    "rejected_leads",
    "rejected_lead_transitions",
    "rpt_data_quality",
]
UNKNOWN_STAGE = "no_such_stage"
# Models, seeds and data tests; the unit tests do not read the data (other
# tests' builds run them), and leaving them out halves each build.
BUILD = ("build", "--exclude-resource-type", "unit_test")


PARTS = ("base", "inc01", "inc02")


def assert_refresh_equals_full_refresh(
    tmp_path: Path,
    input_vars: Callable[[DbtProject], dict[str, object]],
    add_part: Callable[[DbtProject, Path, str], None],
) -> DbtProject:
    """Generate the history with its increments and bad rows; build one
    warehouse after each part reaches its input (add_part: files into a
    folder, batches into tables), then as of 30 days earlier and again;
    build another once from every part with --full-refresh; compare every
    mart. input_vars gives a project the vars that point it at its input.
    Returns the refreshed project."""
    generated = tmp_path / "all"
    scale_data.generate(
        generated,
        leads=3000,
        seed=5,
        stages=STAGES,
        file_format=FORMAT,
        increments=2,
        increment_share=0.05,
        threads=2,
    )
    extras = write_bad_input(generated)

    incremental = DbtProject.copy_of_repo(tmp_path / "incremental")
    incremental.vars = input_vars(incremental)
    add_part(incremental, generated, PARTS[0])
    incremental.dbt(*BUILD)
    assert lead_visits(incremental, extras["conflict_lead"]) > 0, "the base accepts the lead"
    for label in PARTS[1:]:
        add_part(incremental, generated, label)
        incremental.dbt(*BUILD)
    # Each build loaded its files once and rewrote only the leads they touch:
    # untouched leads keep the visits the base build wrote.
    assert loaded_at_count(incremental, "staging.stg_crm__export_files") == 3
    assert loaded_at_count(incremental, "intermediate.int_lead_stage_visits_collapsed") == 3
    assert loaded_at_count(incremental, "intermediate.int_lead_outcomes") == 3

    # A build as of an earlier date cuts later events off the visits; the
    # next regular refresh must see the cut and rebuild them.
    (latest,) = incremental.query("select as_of_date from intermediate.int_pipeline_as_of")
    incremental.dbt(
        *BUILD, extra_vars={"as_of_date": str(latest["as_of_date"] - timedelta(days=30))}
    )
    incremental.dbt(*BUILD)

    full = DbtProject.copy_of_repo(tmp_path / "full")
    full.vars = input_vars(full)
    for label in PARTS:
        add_part(full, generated, label)
    full.dbt(*BUILD, "--full-refresh")

    marts = marts_in(incremental)
    assert marts == marts_in(full), "both warehouses publish the same marts"
    missing = [name for name in REQUIRED_MARTS if name not in marts]
    assert not missing, f"marts missing: {missing}"
    for name in marts:
        assert_same_rows(name, incremental, full)

    check_bad_input_handled(incremental, generated, extras)
    if add_part is add_files:
        listed = {
            row["file_name"]
            for row in incremental.query("select file_name from marts.rpt_export_files")
        }
        assert set(HOSTILE_NAMES.values()) <= listed
    for folder in (incremental.root, full.root, REPO):
        assert not list(folder.glob("pwned*")), "a file name ran as SQL"
    return incremental


def raw_folder(project: DbtProject) -> Path:
    return project.root.with_name(f"{project.root.name}_raw")


# The second increment's extra files arrive under names anyone could give a
# file: a refresh pastes no name into SQL, so their rows are read like any
# other's (a name pasted as SQL would make the first filter out its own
# file, and the second write a file into the project folder).
HOSTILE_NAMES = {
    f"raw_lead_transitions_inc02_extra.{FORMAT}": (
        f"raw_lead_transitions_inc02_extra') or (false and 'x' = 'y.{FORMAT}"
    ),
    f"raw_leads_inc02_extra.{FORMAT}": (
        f"raw_leads_inc02_extra'); copy (select 42 as pwned) to 'pwned.csv'; --.{FORMAT}"
    ),
}


def add_files(project: DbtProject, source: Path, label: str) -> None:
    """Copy the files of one part (base, inc01, ...) into the project's raw
    folder, with their extra files (raw_*_<label>_extra)."""
    raw = raw_folder(project)
    raw.mkdir(exist_ok=True)
    for path in sorted(source.glob(f"raw_*_{label}*.{FORMAT}")):
        shutil.copy2(path, raw / HOSTILE_NAMES.get(path.name, path.name))


def write_bad_input(folder: Path) -> dict[str, str]:
    """Write raw_leads_inc02_extra and raw_lead_transitions_inc02_extra;
    returns the leads and values chosen."""
    pipeline = scale_data.read_pipeline(STAGES)
    open_keys = ", ".join(f"'{key}'" for key in pipeline.open_keys)
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            create table transitions as
            select *, filename like '%\\_base.{FORMAT}' escape '\\' as in_base
            from read_parquet('{folder}/raw_lead_transitions_*.{FORMAT}', filename = true)
            """
        )
        # Leads seen in the base files only, with several stage changes.
        candidates = connection.execute(
            f"""
            select lead_id, arg_max(stage_key, entered_at) in ({open_keys}) as ends_open
            from transitions
            group by lead_id
            having bool_and(in_base) and count(*) >= 3
            order by lead_id
            limit 20
            """
        ).fetchall()
        conflict_lead = candidates[0][0]
        newest_lead = next(lead for lead, ends_open in candidates[1:] if ends_open)
        duplicated_lead, unknown_stage_lead = [
            lead for lead, _ in candidates[1:] if lead != newest_lead
        ][:2]
        # A base row written once, copied into the increment.
        duplicated = connection.execute(
            """
            select lead_id, stage_key, entered_at from transitions
            where lead_id = ?
            group by all having count(*) = 1
            order by entered_at limit 1
            """,
            [duplicated_lead],
        ).fetchone()
        (newest_at,) = connection.execute("select max(entered_at) from transitions").fetchone()
        lead_row = connection.execute(
            f"select {', '.join(LEAD_COLUMNS)} from '{folder}/raw_leads_base.{FORMAT}'"
            " where lead_id = ?",
            [conflict_lead],
        ).fetchone()
        conflicting = dict(zip(LEAD_COLUMNS, lead_row, strict=True))
        conflicting["owner_id"] = "rep_01" if conflicting["owner_id"] != "rep_01" else "rep_02"
        transitions = [
            duplicated,
            ("", pipeline.open_keys[0], newest_at),
            (unknown_stage_lead, UNKNOWN_STAGE, newest_at),
            (newest_lead, pipeline.lost_keys[0], newest_at),
        ]
        write_varchar_parquet(
            connection,
            folder / f"raw_lead_transitions_inc02_extra.{FORMAT}",
            TRANSITION_COLUMNS,
            transitions,
        )
        write_varchar_parquet(
            connection,
            folder / f"raw_leads_inc02_extra.{FORMAT}",
            LEAD_COLUMNS,
            [tuple(conflicting[column] for column in LEAD_COLUMNS)],
        )
    return {
        "conflict_lead": conflict_lead,
        "newest_lead": newest_lead,
        "newest_at": newest_at,
        "lost_key": pipeline.lost_keys[0],
        "duplicated_lead": duplicated[0],
        "duplicated_stage": duplicated[1],
        "duplicated_at": duplicated[2],
    }


def write_varchar_parquet(connection, path: Path, columns, rows) -> None:
    connection.execute(
        "create or replace temp table extra ("
        + ", ".join(f"{column} varchar" for column in columns)
        + ")"
    )
    connection.executemany(
        f"insert into extra values ({', '.join('?' for _ in columns)})", [list(r) for r in rows]
    )
    connection.execute(f"copy extra to '{path}' (format parquet)")


def as_timestamp(text: str) -> str:
    """The generator's 'YYYY-MM-DDTHH:MM:SSZ' as a DuckDB timestamp literal."""
    return f"timestamp '{text.removesuffix('Z').replace('T', ' ')}'"


def lead_visits(project: DbtProject, lead_id: str) -> int:
    rows = project.query(
        f"select count(*) as n from marts.fct_lead_stage_visits where lead_id = '{lead_id}'"
    )
    return rows[0]["n"]


def loaded_at_count(project: DbtProject, relation: str) -> int:
    rows = project.query(f"select count(distinct loaded_at) as n from {relation}")
    return rows[0]["n"]


def marts_in(project: DbtProject) -> list[str]:
    rows = project.query(
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " order by table_name"
    )
    return [row["table_name"] for row in rows]


def exact(value: object) -> object:
    """A hashable value that is equal only for bit-identical floats."""
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, list | tuple):
        return tuple(exact(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, exact(item)) for key, item in value.items())
    return value


def exact_rows(project: DbtProject, name: str) -> tuple[list[str], Counter]:
    """The mart's columns, and its rows as a multiset; loaded_at (when a
    file was first read, rpt_export_files) is the time of a run, which two
    ways of building cannot share."""
    columns, rows = project.mart(name)
    columns = [column for column in columns if column != "loaded_at"]
    return columns, Counter(tuple(exact(row[column]) for column in columns) for row in rows)


def readable(row: tuple) -> tuple:
    """The row as it was read (floats back from their hex form)."""
    return tuple(
        float.fromhex(value[1])
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "float"
        else value
        for value in row
    )


def sort_key(row: tuple) -> tuple:
    return tuple((value is None, "" if value is None else repr(value)) for value in row)


def assert_same_rows(name: str, incremental: DbtProject, full: DbtProject) -> None:
    columns, got = exact_rows(incremental, name)
    full_columns, want = exact_rows(full, name)
    assert columns == full_columns, f"{name}: incremental {columns}, full {full_columns}"
    if got == want:
        return
    only_incremental = [readable(row) for row in sorted((got - want).elements(), key=sort_key)]
    only_full = [readable(row) for row in sorted((want - got).elements(), key=sort_key)]
    raise AssertionError(
        f"{name} differs: incremental {got.total()} rows, full refresh {want.total()} rows; "
        f"{len(only_incremental)} only in incremental, {len(only_full)} only in full.\n"
        f"columns: {columns}\n"
        f"only in incremental (first 5): {only_incremental[:5]}\n"
        f"only in full refresh (first 5): {only_full[:5]}"
    )


def check_bad_input_handled(project: DbtProject, raw: Path, extras: dict[str, str]) -> None:
    """The extra rows did what they were written for (both warehouses agree,
    so one is checked)."""
    conflict = extras["conflict_lead"]
    assert lead_visits(project, conflict) == 0, "a conflicting lead row quarantines the lead"
    (rejected_leads,) = project.query(
        f"select count(*) as n from marts.rejected_leads where lead_id = '{conflict}'"
    )
    assert rejected_leads["n"] >= 1
    with duckdb.connect() as connection:
        counts = dict(
            connection.execute(
                f"""
                select 'transitions', count(*) from '{raw}/raw_lead_transitions*.{FORMAT}'
                union all
                select 'conflict', count(*) from '{raw}/raw_lead_transitions*.{FORMAT}'
                where lead_id = '{conflict}'
                union all
                select 'leads', count(*) from '{raw}/raw_leads*.{FORMAT}'
                """
            ).fetchall()
        )
    (quarantined,) = project.query(
        "select coalesce(sum(source_row_count), 0) as n from marts.rejected_lead_transitions"
        f" where lead_id = '{conflict}'"
    )
    assert quarantined["n"] == counts["conflict"], "its accepted changes are quarantined"
    (odd,) = project.query(
        "select count(*) filter (where coalesce(trim(lead_id), '') = '') as blank,"
        f" count(*) filter (where stage_key = '{UNKNOWN_STAGE}') as unknown"
        " from marts.rejected_lead_transitions"
    )
    assert odd == {"blank": 1, "unknown": 1}, odd
    (copied,) = project.query(
        "select count(*) as n from marts.fct_lead_stage_visits"
        f" where lead_id = '{extras['duplicated_lead']}'"
        f" and stage_key = '{extras['duplicated_stage']}'"
        f" and entered_at = {as_timestamp(extras['duplicated_at'])}"
    )
    assert copied["n"] == 1, "a row copied into another file is one visit"
    (newest,) = project.query(
        "select count(*) as n from marts.fct_lead_stage_visits"
        f" where lead_id = '{extras['newest_lead']}' and stage_key = '{extras['lost_key']}'"
        f" and entered_at = {as_timestamp(extras['newest_at'])}"
    )
    assert newest["n"] == 1, "the newest day's change of an old lead is a visit"
    # Every raw row is accounted for, the copied one twice.
    accounted = {
        row["table_name"]: row["n"]
        for row in project.query(
            "select table_name, sum(row_count) as n from marts.rpt_data_quality group by table_name"
        )
    }
    assert accounted == {
        "raw_lead_transitions": counts["transitions"],
        "raw_leads": counts["leads"],
    }, (accounted, counts)
