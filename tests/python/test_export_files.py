"""Every export file accounted for: read and counted, or refused with a
message in plain words that stops the build before any mart is published;
a loaded file that changed or disappeared is never silently ignored.

One published build of good exports comes first; then every malformed kind
of file is dropped in at once, and the refresh must fail with one line per
file, publish nothing and leave the published warehouse and its Parquet
marts as they were. Each kind's line is asserted word for word.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import PUBLISHED_MARTS, REPO, DbtProject, write_csv
from export_fixtures import MODELS_ONLY, small_exports, write_base_exports
from mart_checks import as_text, assert_marts_match, demo_config
from reference import compute_marts, export_files_report, read_csv_rows

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

HEADER = "lead_id,stage_key,entered_at\n"
REQUIRED = "lead_id, stage_key, entered_at"
WRONG_COLUMNS = (
    "line 1: wrong columns: it must name the columns lead_id, stage_key, entered_at "
    "(in any order; other columns are allowed); it has {} (missing {})"
)


def csv_text(rows: list[dict[str, str]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# name -> (file bytes, the line the build must print for it)
MALFORMED: dict[str, tuple[bytes, str]] = {
    "raw_lead_transitions_missing_column.csv": (
        b"lead_id,entered_at\nL1,2025-01-01\n",
        WRONG_COLUMNS.format("lead_id, entered_at", "stage_key"),
    ),
    "raw_lead_transitions_renamed_column.csv": (
        b"lead_id,stage,entered_at\nL1,qualification,2025-01-01\n",
        WRONG_COLUMNS.format("lead_id, stage, entered_at", "stage_key"),
    ),
    "raw_lead_transitions_binary.csv": (
        random.Random(7).randbytes(4096),
        "is not CSV text: it holds binary data",
    ),
    "raw_lead_transitions_gzip.csv": (
        gzip.compress((HEADER + "L1,qualification,2025-01-01\n").encode(), mtime=0),
        "is gzip-compressed but named .csv: name it raw_lead_transitions_gzip.csv.gz",
    ),
    "raw_lead_transitions_workbook.csv": (
        b"",  # a zip archive, written below
        "is not CSV text: it is a zip archive (an Excel workbook is one); "
        "save the sheet as CSV (UTF-8)",
    ),
    "raw_lead_transitions_utf16.csv": (
        (HEADER + "L1,qualification,2025-01-01\n").encode("utf-16"),
        "is UTF-16 text: save it as UTF-8, or set the var input_encoding: utf-16",
    ),
    "raw_lead_transitions_latin1.csv": (
        (HEADER + "L1,qualification,2025-01-01\nL1,réunion,2025-01-02\n").encode("latin-1"),
        "line 3 is not UTF-8 text (byte 0xe9): the export looks Latin-1 or Windows-1252; "
        "save it as UTF-8, or set the var input_encoding: latin-1",
    ),
    "raw_lead_transitions_short_row.csv": (
        (HEADER + "L1,qualification,2025-01-01\nL1,discovery\nL1,meeting,2025-01-03\n").encode(),
        "line 3: 2 fields instead of 3",
    ),
    "raw_lead_transitions_unquoted_comma.csv": (
        (HEADER + "L1,qualification,2025-01-01\nL1,disc,overy,2025-01-02\n").encode(),
        "line 3: 4 fields instead of 3 (a comma inside a value must be in double quotes)",
    ),
    "raw_lead_transitions_huge_field.csv": (
        (HEADER + "L1," + "x" * (10 * 1024 * 1024) + ",2025-01-01\n").encode(),
        "line 2: the line is longer than the 2,000,000 bytes a line may have (10,485,774 bytes)",
    ),
    "raw_lead_transitions_zz_headerless.csv": (
        b"L5,qualification,2025-01-01\nL6,discovery,2025-01-02\n",
        WRONG_COLUMNS.format("L5, qualification, 2025-01-01", REQUIRED)
        + ": is the header row missing?",
    ),
    "raw_lead_transitions_unclosed_quote.csv": (
        (HEADER + 'L1,"qualification,2025-01-01\nL1,discovery,2025-01-02\n').encode(),
        "line 2: a value opens a double quote that is never closed",
    ),
    "raw_lead_transitions_plain.csv.gz": (
        (HEADER + "L1,qualification,2025-01-01\n").encode(),
        "is named .gz but is not gzip-compressed; name plain CSV text .csv",
    ),
    "raw_leads_2026.xlsx": (
        b"",  # a zip archive, written below
        "is a spreadsheet: save it as CSV (UTF-8), or export the CRM table as CSV",
    ),
}


# Entries that are not plain files, dropped in with the malformed files:
# name -> the line the build must print for it. A link is never followed
# (its target's first line must not reach any message), and a name that is
# not UTF-8 is shown with its odd bytes escaped.
LINK_TO_OUTSIDE = "raw_lead_transitions_link.csv"
DANGLING_LINK = "raw_leads_dangling.csv"
NOT_UTF8_NAME = os.fsdecode(b"raw_leads_caf\xe9.csv")
NOT_PLAIN_FILES = {
    LINK_TO_OUTSIDE: "is a symbolic link: links are not followed; copy or move the file "
    "itself into raw_path",
    DANGLING_LINK: "is a symbolic link to nothing (the file it named is gone): links are not "
    "followed; copy or move the file itself into raw_path",
    "raw_leads_caf\\xe9.csv": "is not read: its name is not UTF-8 text (the bytes shown as "
    "\\x..); rename the file",
}
SECRET = "TOP-SECRET-FIRST-LINE"


def workbook_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    """A project with a published build of good exports, then the refresh
    that finds every malformed file."""
    root = tmp_path_factory.mktemp("files")
    exports = root / "exports"
    leads, transitions = small_exports()
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)
    project = DbtProject.copy_of_repo(root / "project")
    project.vars = {"raw_path": str(exports)}
    project.publish()
    good = snapshot(project)

    for name, (content, _) in MALFORMED.items():
        (exports / name).write_bytes(content or workbook_bytes())
    outside = root / "outside.csv"
    outside.write_text(f"{SECRET},x,y\n")
    (exports / LINK_TO_OUTSIDE).symlink_to(outside)
    (exports / DANGLING_LINK).symlink_to(root / "gone.csv")
    (exports / NOT_UTF8_NAME).write_text(csv_text(small_exports()[0][:2], LEAD_COLUMNS))
    refresh = project.publish(check=False)
    return project, good, refresh


def project_exports(published) -> str:
    project, _, _ = published
    return str(project.vars["raw_path"])


def snapshot(project: DbtProject) -> dict:
    marts = {name: sorted(map(repr, project.mart(name)[1])) for name in PUBLISHED_MARTS}
    folder = project.database.parent / "marts"
    parquet = {path.name: path.read_bytes() for path in sorted(folder.resolve().iterdir())}
    return {"marts": marts, "parquet": parquet, "mtime_ns": project.database.stat().st_mtime_ns}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_file_stops_the_build_naming_the_file_and_the_problem(published, name):
    _, _, refresh = published
    output = refresh.stderr
    assert f"  - {name} {MALFORMED[name][1]}\n" in output, output[-4000:]


@pytest.mark.parametrize("name", sorted(NOT_PLAIN_FILES))
def test_links_and_names_that_are_not_utf8_stop_the_build_unread(published, name):
    _, _, refresh = published
    assert f"  - {name} {NOT_PLAIN_FILES[name]}\n" in refresh.stderr, refresh.stderr[-4000:]
    assert SECRET not in refresh.stdout + refresh.stderr


def test_the_problems_come_in_one_message_before_any_model_reads_a_file(published):
    _, _, refresh = published
    assert refresh.returncode != 0
    output = refresh.stderr
    assert f"publish: Export file error in {project_exports(published)}:" in output
    lines = [line for line in output.splitlines() if line.startswith("  - raw_")]
    assert len(lines) == len(MALFORMED) + len(NOT_PLAIN_FILES), lines
    assert "Fix or remove these files and build again" in output
    assert "Traceback" not in output + refresh.stdout
    assert refresh.stdout == "", "the load stops before dbt runs"


def test_the_failed_refresh_leaves_the_published_build_and_its_parquet_marts(published):
    project, good, refresh = published
    assert "is unchanged" in refresh.stderr
    assert snapshot(project) == good
    leftovers = sorted(p.name for p in project.root.iterdir() if "building" in p.name)
    assert leftovers == []


def test_latin1_exports_are_read_with_input_encoding(tmp_path: Path):
    exports = tmp_path / "exports"
    leads, transitions = small_exports(seed=4, leads=40)
    leads[0]["owner_id"] = "José Müller"
    exports.mkdir()
    (exports / "raw_leads.csv").write_bytes(csv_text(leads, LEAD_COLUMNS).encode("latin-1"))
    (exports / "raw_lead_transitions.csv").write_bytes(
        csv_text(transitions, TRANSITION_COLUMNS).encode("latin-1")
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports), "input_encoding": "latin-1"}
    project.dbt(*MODELS_ONLY, "--select", "+fct_lead_stage_visits")
    [row] = project.query(
        f"select owner_id from marts.fct_lead_stage_visits where lead_id = '{leads[0]['lead_id']}' "
        "limit 1"
    )
    assert row["owner_id"] == "José Müller"


def test_exports_in_any_case_gzip_and_semicolons_are_read_and_every_file_is_listed(
    tmp_path: Path,
):
    """Upper-case extensions, gzip-compressed CSV and a semicolon-separated
    file are read; other files are listed as ignored; every raw row is
    accounted for, and the marts equal the reference on all the rows."""
    exports = tmp_path / "exports"
    leads, transitions = small_exports(seed=9, leads=150)
    third = len(transitions) // 3
    parts = [transitions[:third], transitions[third : 2 * third], transitions[2 * third :]]
    exports.mkdir()
    (exports / "RAW_LEADS.CSV").write_text(csv_text(leads, LEAD_COLUMNS))
    (exports / "raw_lead_transitions_a.CSV.GZ").write_bytes(
        gzip.compress(csv_text(parts[0], TRANSITION_COLUMNS).encode(), mtime=0)
    )
    (exports / "Raw_Lead_Transitions_b.csv").write_text(
        csv_text(parts[1], TRANSITION_COLUMNS).replace(",", ";")
    )
    (exports / "raw_lead_transitions_c.csv").write_text(csv_text(parts[2], TRANSITION_COLUMNS))
    (exports / "README.txt").write_text("exported from the CRM on Monday")
    shutil.copyfile(REPO / "seeds/config/pipeline_stages.csv", exports / "pipeline_stages.csv")
    duckdb.connect().execute(
        f"copy (select 'x' as lead_id) to '{exports / 'raw_leads_old.parquet'}' (format parquet)"
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports), "config_path": str(exports)}
    for name in ("stage_benchmarks", "revenue_targets"):
        shutil.copyfile(REPO / f"seeds/config/{name}.csv", exports / f"{name}.csv")
    result = project.dbt("build")
    assert "WARN 1 export_files_of_the_other_raw_format_are_read" in result.stdout

    report = {row["file_name"]: row for row in project.mart("rpt_export_files")[1]}
    expected_files = export_files_report(str(exports), "csv", str(exports))
    assert sorted(report) == [row["file_name"] for row in expected_files]
    for want in expected_files:
        got = report[want["file_name"]]
        for column, value in want.items():
            assert got[column] == value, (want["file_name"], column, got[column], value)
        assert (got["loaded_at"] is None) == (want["status"] != "read")
    assert {name: row["row_count"] for name, row in report.items() if row["row_count"]} == {
        "RAW_LEADS.CSV": len(leads),
        "raw_lead_transitions_a.CSV.GZ": len(parts[0]),
        "Raw_Lead_Transitions_b.csv": len(parts[1]),
        "raw_lead_transitions_c.csv": len(parts[2]),
    }
    assert report["raw_leads_old.parquet"]["reason"] == (
        "a Parquet file, and raw_format is csv: set raw_format: parquet"
    )

    quality = project.query(
        "select table_name, sum(row_count) as n from marts.rpt_data_quality group by 1"
    )
    assert {row["table_name"]: row["n"] for row in quality} == {
        "raw_leads": len(leads),
        "raw_lead_transitions": len(transitions),
    }
    expected = compute_marts(
        as_text(leads), as_text(transitions), *demo_config().values(), as_of_date=None
    )
    assert_marts_match(project, expected)


def marts_of(project: DbtProject) -> dict[str, list]:
    names = [*PUBLISHED_MARTS, "rpt_data_quality", "rejected_leads", "rejected_lead_transitions"]
    return {name: sorted(map(repr, project.mart(name)[1])) for name in names}


def test_a_changed_or_removed_export_file_rebuilds_from_scratch(tmp_path: Path):
    """Through the publisher (make build): a new file refreshes the
    published warehouse; a loaded file changed in place, then one removed,
    each rebuild from scratch, equal to a build on the files as they are.
    A plain dbt build after such a change stops instead."""
    exports = tmp_path / "exports"
    write_base_exports(exports)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}
    fresh = DbtProject.copy_of_repo(tmp_path / "fresh")
    fresh.vars = project.vars
    project.publish(*MODELS_ONLY[1:])
    leads = read_csv_rows(str(exports / "raw_leads.csv"))
    write_csv(
        exports / "raw_lead_transitions_3.csv",
        [{"lead_id": leads[0]["lead_id"], "stage_key": "closed_lost", "entered_at": "2025-06-30"}],
        TRANSITION_COLUMNS,
    )
    incremental = project.publish(*MODELS_ONLY[1:])
    assert "refreshing the published warehouse (same inputs" in incremental.stderr

    changed = exports / "raw_lead_transitions_1.csv"
    rows = read_csv_rows(str(changed))
    write_csv(changed, rows[: len(rows) // 2], TRANSITION_COLUMNS)
    refresh = project.publish(*MODELS_ONLY[1:])
    assert (
        "rebuilding from scratch: export file raw_lead_transitions_1.csv changed ("
        in refresh.stderr
    )
    fresh.dbt(*MODELS_ONLY, "--full-refresh")
    assert marts_of(project) == marts_of(fresh)

    (exports / "raw_lead_transitions_2.csv").unlink()
    refresh = project.publish(*MODELS_ONLY[1:])
    assert (
        "rebuilding from scratch: export file raw_lead_transitions_2.csv was removed"
        in refresh.stderr
    )
    fresh.dbt(*MODELS_ONLY, "--full-refresh")
    assert marts_of(project) == marts_of(fresh)

    # Without the publisher, dbt itself stops after a loaded file changed or
    # disappeared, naming them and what to run; nothing downstream runs.
    before = marts_of(fresh)
    changed.write_text(changed.read_text() + "L-NEW,qualification,2025-06-01\n")
    (exports / "raw_lead_transitions_3.csv").unlink()
    result = fresh.dbt("build", check=False)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    for line in (
        f"Export files changed since the warehouse loaded them (in {exports}):",
        f"- raw_lead_transitions_1.csv changed: {changed.stat().st_size:,} bytes now, ",
        "- raw_lead_transitions_3.csv was removed (loaded ",
        "a plain dbt build needs --full-refresh.",
    ):
        assert line in output, output[-3000:]
    assert marts_of(fresh) == before


def test_a_warehouse_an_earlier_version_built_is_rebuilt(tmp_path: Path):
    """A warehouse whose refresh state has an earlier layout (here: the
    outcomes table without as_of_at and loaded_at, as versions before the
    outcomes refreshed by lead wrote it, and an inputs record without the
    layout): a plain dbt build stops naming the table and what to run; the
    publisher rebuilds from scratch by itself, saying why."""
    from sales_pipeline.build_inputs import RECORD_TABLE, STATE_LAYOUT

    exports = tmp_path / "exports"
    write_base_exports(exports)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}
    project.publish(*MODELS_ONLY[1:])
    with duckdb.connect(str(project.database)) as connection:
        for column in ("as_of_at", "loaded_at"):
            connection.execute(f"alter table intermediate.int_lead_outcomes drop column {column}")
        (recorded,) = connection.execute(f"select inputs_json from {RECORD_TABLE}").fetchone()
        record = json.loads(recorded)
        assert record["settings"].pop("state_layout") == STATE_LAYOUT
        connection.execute(f"update {RECORD_TABLE} set inputs_json = ?", [json.dumps(record)])

    result = project.dbt(*MODELS_ONLY, check=False)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert (
        "intermediate.int_lead_outcomes was built by an earlier version of the project, which "
        "stored no loaded_at or as_of_at to refresh from: rebuild once with "
        "`dbt build --full-refresh`"
    ) in output, output[-3000:]

    rebuilt = project.publish(*MODELS_ONLY[1:])
    assert (
        "rebuilding from scratch: an earlier version of the project built it, which stores "
        f"the refresh state differently (layout unset -> {STATE_LAYOUT})"
    ) in rebuilt.stderr
    (outcomes,) = project.query(
        "select count(*) as leads, count(as_of_at) as with_as_of"
        " from intermediate.int_lead_outcomes"
    )
    assert outcomes["leads"] > 0 and outcomes["with_as_of"] == outcomes["leads"]


def test_a_plain_dbt_build_onto_the_demo_seeds_stops(tmp_path: Path):
    """Without the publisher, exports meeting a warehouse of the demo seeds
    stop dbt itself (the publisher would start from scratch instead)."""
    exports = tmp_path / "exports"
    write_base_exports(exports)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.dbt(*MODELS_ONLY)
    onto_demo = project.dbt("build", extra_vars={"raw_path": str(exports)}, check=False)
    assert onto_demo.returncode != 0
    assert "the warehouse holds the demo seed raw_leads: it was built without raw_path" in (
        onto_demo.stdout
    )


def test_the_inspection_reads_a_file_with_the_options_the_views_use(tmp_path: Path):
    """The inspection on its own (no dbt): the options the loader records
    are what DuckDB then reads, row for row."""
    from sales_pipeline import export_files as files

    path = tmp_path / "raw_lead_transitions.csv"
    path.write_text(
        '\ufeff"Stage_Key" ; lead_id ;note;ENTERED_AT\r\n'
        'qualification;L1;"a; b";2025-01-01\r\n'
        'discovery;L1;"two\nlines";2025-01-02\r\n'
    )
    plan = files.inspect_file(str(path), "csv", ["lead_id", "stage_key", "entered_at"], "utf-8")
    assert plan["problems"] == [] and plan["row_count"] == 2
    assert plan["columns"] == ["stage_key", "lead_id", "extra_3", "entered_at"]
    rows = (
        duckdb.connect()
        .execute(
            f"select lead_id, stage_key, entered_at from read_csv('{path}', {plan['read_options']})"
        )
        .fetchall()
    )
    assert rows == [("L1", "qualification", "2025-01-01"), ("L1", "discovery", "2025-01-02")]
    listed = {e["file_name"]: e for e in files.list_folder(str(tmp_path), "csv", None)}
    stat = os.stat(path)
    assert listed["raw_lead_transitions.csv"]["file_size_bytes"] == stat.st_size
    assert listed["raw_lead_transitions.csv"]["status"] == "export"


def test_a_crm_export_lands_as_its_adapters_tables_or_not_at_all(tmp_path: Path):
    """Pipedrive's export files as the tables its adapter reads, every column
    text, extra columns left; a schema name is quoted. A file missing a
    column lands nothing, not even the good one, and says which."""
    from sales_pipeline.crm_export_tables import land_export_tables
    from sales_pipeline.load import DuckDBDestination, LoadError

    source = tmp_path / "export"
    source.mkdir()
    (source / "deal_changes.csv").write_text(
        "deal_id;change_time;changed_field_key;new_value;note\n7;2024-01-02 10:00:00;stage_id;2;x\n"
    )
    (source / "stages.csv").write_text("stage_id,stage_name\n2,Qualified lead\n")
    database = tmp_path / "warehouse.duckdb"
    schema = 'my "crm"'
    with duckdb.connect(str(database)) as connection:
        landed = land_export_tables(DuckDBDestination(connection), "pipedrive", source, schema)
        assert landed == {"deal_changes": 1, "stages": 1}
        rows = connection.execute('select * from "my ""crm""".deal_changes').fetchall()
        assert rows == [("7", "2024-01-02 10:00:00", "stage_id", "2")]
        (source / "stages.csv").write_text("stage_id,name\n3,Won\n")
        with pytest.raises(LoadError) as error:
            land_export_tables(DuckDBDestination(connection), "pipedrive", source, "other")
        assert "stages.csv line 1: wrong columns" in str(error.value)
        assert "missing stage_name" in str(error.value)
        schemas = connection.execute(
            "select schema_name from information_schema.schemata"
        ).fetchall()
        assert ("other",) not in schemas
