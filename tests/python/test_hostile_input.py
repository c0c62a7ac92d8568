"""Text a user or a file controls never runs as SQL or shell, and no kill,
lock or full disk leaves a wrong warehouse (issue 25).

The publisher's steps are tested with a stand-in for dbt: a script that
copies a prepared warehouse (build B) into the copy the publisher hands it,
so every kill point costs a second, not a build. Build A is one real
publish; B is A with rows taken out of a mart, so the published file and
the Parquet marts each say which build they hold.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import REPO, DbtProject, write_csv
from export_fixtures import MODELS_ONLY, small_exports, write_base_exports

from sales_pipeline import export_files
from sales_pipeline import load as loader
from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

MART = "fct_lead_stage_visits"
ROWS_TAKEN_OUT = 7

# dbt's stand-in: puts build B where the publisher builds, holding the file
# open for FAKE_DBT_SECONDS first (as dbt holds its lock while it runs).
FAKE_DBT = """
import os, shutil, sys, time
import duckdb
building = os.environ["PIPELINE_DUCKDB_PATH"]
shutil.copyfile(os.environ["FAKE_DBT_SOURCE"], building)
with duckdb.connect(building) as connection:
    open(os.environ["FAKE_DBT_PID_FILE"], "w").write(str(os.getpid()))
    time.sleep(float(os.environ.get("FAKE_DBT_SECONDS", "0")))
"""

# The publisher with dbt's stand-in; KILL_AT=before:NAME or after:NAME
# kills it (SIGKILL, no clean-up) at that step, ENOSPC_AT=NAME makes that
# step find the disk full.
PUBLISHER = """
import errno, os, signal, sys
from sales_pipeline import publish

publish.DBT_EXECUTABLE = sys.argv[1]

def kill_at(name, when):
    step = getattr(publish, name)
    def wrapped(*args, **kwargs):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = step(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(publish, name, wrapped)

def disk_full_at(name):
    def wrapped(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    setattr(publish, name, wrapped)

if os.environ.get("KILL_AT"):
    when, name = os.environ["KILL_AT"].split(":")
    kill_at(name, when)
if os.environ.get("ENOSPC_AT"):
    disk_full_at(os.environ["ENOSPC_AT"])
sys.exit(publish.main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    """A real publish of small exports (build A), and build B beside it."""
    root = tmp_path_factory.mktemp("hostile")
    exports = root / "exports"
    leads, transitions = small_exports(seed=8, leads=120)
    # Typos in the year: never the as-of date (test_a_typo_in_the_year_...).
    leads.append({**leads[0], "lead_id": "TYPO-LEAD", "created_at": "2052-01-15T09:00:00Z"})
    transitions.append(
        {"lead_id": leads[1]["lead_id"], "stage_key": "closed_lost", "entered_at": "9999-12-31"}
    )
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)
    project = DbtProject.copy_of_repo(root / "project")
    project.vars = {"raw_path": str(exports)}
    project.publish("--exclude-resource-type", "test")
    build_b = root / "build_b.duckdb"
    shutil.copyfile(project.database, build_b)
    with duckdb.connect(str(build_b)) as connection:
        # The mart is a view: B holds a table in its place, 7 rows short.
        connection.execute(
            f"create table marts.shorter as select * from marts.{MART} "
            f"order by all offset {ROWS_TAKEN_OUT}"
        )
        connection.execute(f"drop view marts.{MART}")
        connection.execute(f"alter table marts.shorter rename to {MART}")
    fake_dbt = root / "fake_dbt"
    fake_dbt.write_text(f"#!{sys.executable}\n{FAKE_DBT}")
    fake_dbt.chmod(0o755)
    return project, exports, build_b, fake_dbt


def which_build(project: DbtProject) -> tuple[int, int]:
    """Rows of the mart in the published file and in its Parquet file."""
    with duckdb.connect(str(project.database), read_only=True) as connection:
        (in_file,) = connection.execute(f"select count(*) from marts.{MART}").fetchone()
        parquet = project.database.parent / "marts" / f"{MART}.parquet"
        (in_parquet,) = connection.execute(
            "select count(*) from read_parquet(?)", [str(parquet)]
        ).fetchone()
    return in_file, in_parquet


def run_publisher(published, *, env=None, wait=True, extra=()):
    project, exports, build_b, fake_dbt = published
    pid_file = project.root / "fake_dbt.pid"
    pid_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-c",
        PUBLISHER,
        str(fake_dbt),
        "--warehouse",
        str(project.database),
        "--project-dir",
        str(project.root),
        "--raw-path",
        str(exports),
        *extra,
    ]
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FAKE_DBT_SOURCE": str(build_b),
        "FAKE_DBT_PID_FILE": str(pid_file),
        **(env or {}),
    }
    process = subprocess.Popen(
        command, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return process
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def started_publisher(published, seconds: str):
    """A publisher whose dbt stand-in holds the copy open for seconds; returns
    once the stand-in runs, with the stand-in's process id."""
    pid_file = published[0].root / "fake_dbt.pid"
    publisher = run_publisher(published, env={"FAKE_DBT_SECONDS": seconds}, wait=False)
    deadline = time.time() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert publisher.poll() is None, publisher.communicate()
        assert time.time() < deadline, "dbt's stand-in never started"
        time.sleep(0.05)
    return publisher, int(pid_file.read_text())


def assert_stops(pid: int, seconds: float = 10) -> None:
    """The process ends (a zombie waiting for its parent counts as ended)."""
    deadline = time.time() + seconds
    while Path(f"/proc/{pid}").exists():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        assert time.time() < deadline, f"process {pid} kept running"
        time.sleep(0.05)


def restore_a(published, build_a: Path) -> None:
    """Publish build A again, through the real publishing steps."""
    result = run_publisher(published, env={"FAKE_DBT_SOURCE": str(build_a)})
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def builds(published):
    project = published[0]
    build_a = project.root.parent / "build_a.duckdb"
    shutil.copyfile(project.database, build_a)
    counts_a = which_build(project)
    assert counts_a[0] == counts_a[1] > ROWS_TAKEN_OUT
    counts_b = (counts_a[0] - ROWS_TAKEN_OUT, counts_a[1] - ROWS_TAKEN_OUT)
    return build_a, counts_a, counts_b


def test_a_typo_in_the_year_is_quarantined_and_never_the_as_of_date(published):
    project, exports, _, _ = published
    with duckdb.connect(str(project.database), read_only=True) as connection:
        reasons = connection.execute(
            "select lead_id, rejection_reason from marts.rejected_leads "
            "union all select lead_id || ' ' || cast(entered_at as varchar), rejection_reason "
            "from marts.rejected_lead_transitions order by 1"
        ).fetchall()
        (as_of,) = connection.execute(
            "select distinct as_of_date from marts.fct_stage_conversion"
        ).fetchone()
    latest = max(
        line.split(",")[2][:10]
        for line in (exports / "raw_lead_transitions.csv").read_text().splitlines()[1:]
        if not line.endswith("9999-12-31")
    )
    assert [reason for _, reason in reasons] == ["in_the_future", "in_the_future"], reasons
    assert str(as_of) == latest < "2026-01-01"


# --- kills at every step of a publish -------------------------------------------------------

KILL_POINTS = {
    # killed before anything is published: build A stays, file and Parquet
    "before:_seal": "A",
    "before:_build_folder": "A",
    "before:_write_parquet_marts": "A",
    "after:_write_parquet_marts": "A",
    "before:_make_current": "A",
    # killed after the one rename: build B, file and Parquet
    "after:_make_current": "B",
    "before:_remove_old_builds": "B",
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_publish_killed_at_any_step_leaves_one_whole_build(published, builds, point):
    project = published[0]
    build_a, counts_a, counts_b = builds
    restore_a(published, build_a)
    assert which_build(project) == counts_a

    killed = run_publisher(published, env={"KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    expected = counts_a if KILL_POINTS[point] == "A" else counts_b
    assert which_build(project) == expected, f"killed {point}"

    rerun = run_publisher(published)
    assert rerun.returncode == 0, rerun.stderr
    assert which_build(project) == counts_b
    # What the killed publish left is cleaned up: the current build and the
    # previous one's Parquet marts, no copy in the making.
    builds_folder = project.database.parent / f".{project.database.stem}.builds"
    assert len(list(builds_folder.iterdir())) <= 2
    assert not [p for p in project.root.iterdir() if p.name.endswith(".building")]


def test_a_killed_publisher_takes_its_dbt_with_it_and_the_rerun_succeeds(published, builds):
    project = published[0]
    build_a, counts_a, counts_b = builds
    restore_a(published, build_a)
    publisher, dbt_pid = started_publisher(published, "60")
    publisher.kill()
    publisher.communicate(timeout=30)
    assert_stops(dbt_pid)
    assert which_build(project) == counts_a

    rerun = run_publisher(published)
    assert rerun.returncode == 0, rerun.stderr
    assert which_build(project) == counts_b


def test_sigterm_stops_the_publisher_and_its_dbt_and_publishes_nothing(published, builds):
    project = published[0]
    build_a, counts_a, _ = builds
    restore_a(published, build_a)
    publisher, dbt_pid = started_publisher(published, "60")
    publisher.send_signal(signal.SIGTERM)
    _, err = publisher.communicate(timeout=30)
    assert publisher.returncode == 128 + signal.SIGTERM
    assert err.splitlines()[-1] == f"publish: stopped by signal 15; {project.database} is unchanged"
    assert "Traceback" not in err
    assert_stops(dbt_pid)
    assert which_build(project) == counts_a
    assert not [p for p in project.root.iterdir() if p.name.endswith(".building")]


# --- locks and a full disk ------------------------------------------------------------------


def test_a_build_waiting_for_another_says_for_whom(published, builds):
    project = published[0]
    build_a, _, counts_b = builds
    restore_a(published, build_a)
    lock_path = project.database.with_name(f".{project.database.name}.lock")
    with lock_path.open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write("4242\n")
        lock.flush()
        waiting = run_publisher(published, wait=False)
        time.sleep(3)
        assert waiting.poll() is None, "the second build must wait for the lock"
        fcntl.flock(lock, fcntl.LOCK_UN)
    _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert (
        f"publish: waiting for another build of {project.database} to finish "
        f"(process 4242; lock file {lock_path})"
    ) in err
    assert which_build(project) == counts_b


def test_a_writer_holding_the_published_file_stops_the_publish_without_a_rebuild(published, builds):
    project = published[0]
    build_a, counts_a, _ = builds
    restore_a(published, build_a)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " time.sleep(60)",
            str(project.database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = run_publisher(published)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"publish: error: {project.database} is open for writing by another process "
        f"(process {holder.pid}): close it (a DuckDB client, a plain dbt build) and build again; "
        f"{project.database} is unchanged"
    ], result.stderr
    assert which_build(project) == counts_a


def test_a_full_disk_stops_with_one_line_saying_where(published, builds):
    project = published[0]
    build_a, counts_a, _ = builds
    restore_a(published, build_a)
    result = run_publisher(published, env={"ENOSPC_AT": "_seal"})
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if "error" in line]
    assert line.startswith(f"publish: error: the disk of {project.database.parent} is full (")
    assert "MB free): publishing needs about" in line
    assert line.endswith(f"free space and build again; {project.database} is unchanged")
    assert "Traceback" not in result.stderr
    assert which_build(project) == counts_a


# --- vars and make's variables --------------------------------------------------------------


def test_vars_that_do_not_parse_get_one_line_naming_vars(published):
    result = run_publisher(published, extra=("--vars", "{as_of_date: 2026-06-30, x: [}"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "publish: error: --vars is not a YAML or JSON mapping (expected the node content, "
        "but found '}' at line 1, column 30): '{as_of_date: 2026-06-30, x: [}'; write it like "
        "'{as_of_date: 2026-06-30, input_timestamp_format: \"%d/%m/%Y\"}'"
    ]


def test_make_passes_its_variables_as_data_never_as_shell(tmp_path: Path):
    """A quote in VARS or RAW_PATH ends nothing: the text reaches the
    publisher whole, and the shell runs none of it."""
    marker = tmp_path / "ran_as_shell"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_", "MAKE"))}
    hostile = f"{{as_of_date: 2026-06-30}}' ; touch {marker} ; echo '"
    result = subprocess.run(
        ["make", "-C", str(REPO), "build", f"WAREHOUSE={tmp_path}/w.duckdb", f"VARS={hostile}"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert not marker.exists()
    assert "publish: error: --vars is not a YAML or JSON mapping" in result.stderr
    assert repr(hostile) in result.stderr

    # A natural single-quoted YAML value with a space reaches dbt as one var,
    # and a folder named with a quote, $ and ; reaches the loader whole.
    spaced = "{input_timestamp_format: '%d/%m/%Y %H:%M', as_of_date: 'not a date'}"
    write_base_exports(tmp_path / "it's $HOME; here")
    result = subprocess.run(
        [
            "make",
            "-C",
            str(REPO),
            "build",
            f"WAREHOUSE={tmp_path}/w.duckdb",
            f"VARS={spaced}",
            f"RAW_PATH={tmp_path}/it's $HOME; here",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert "var as_of_date must be a valid date written YYYY-MM-DD" in output, output[-3000:]
    assert "got 'not a date'" in output
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("var", "env_name"),
    [("crm_schema", " (env PIPELINE_CRM_SCHEMA)"), ("crm_leads_table", "")],
)
def test_crm_name_vars_are_plain_names_or_the_build_stops(tmp_path: Path, var, env_name):
    project = DbtProject.copy_of_repo(tmp_path / "project")
    value = "raw\"; copy (select 42 as pwned) to 'pwned.csv'; --"
    result = project.dbt("parse", extra_vars={var: value}, check=False)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert (
        f"var {var}{env_name} must be a plain name: letters, digits and _, not starting with "
        f"a digit, at most 63 characters; got '{value}'"
    ) in output, output[-3000:]
    assert not list(tmp_path.rglob("pwned*"))


# --- the export folder: links, names, unreadable folders, damaged files --------------------


def test_links_in_the_export_folder_are_refused_never_followed(tmp_path: Path):
    outside = tmp_path / "secret.csv"
    outside.write_text("lead_id,stage_key,entered_at\nTOP-SECRET,x,2025-01-01\n")
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "raw_lead_transitions_link.csv").symlink_to(outside)
    (folder / "raw_leads_gone.csv").symlink_to(tmp_path / "nothing.csv")
    (folder / "notes.txt").symlink_to(outside)
    entries = {e["file_name"]: e for e in export_files.list_folder(str(folder), "csv", None)}
    assert entries["raw_lead_transitions_link.csv"]["status"] == "refused"
    assert entries["raw_lead_transitions_link.csv"]["reason"] == (
        "is a symbolic link: links are not followed; copy or move the file itself into raw_path"
    )
    assert entries["raw_leads_gone.csv"]["status"] == "refused"
    assert entries["raw_leads_gone.csv"]["reason"] == (
        "is a symbolic link to nothing (the file it named is gone): links are not followed; "
        "copy or move the file itself into raw_path"
    )
    assert entries["notes.txt"]["status"] == "ignored"
    assert "TOP-SECRET" not in json.dumps(list(entries.values()), default=str)


def test_a_file_name_that_is_not_utf8_is_refused_with_its_bytes_shown(tmp_path: Path):
    folder = tmp_path / "exports"
    folder.mkdir()
    name = os.fsdecode(b"raw_leads_caf\xe9.csv")
    (folder / name).write_text("lead_id\n")
    (entry,) = export_files.list_folder(str(folder), "csv", None)
    assert entry["file_name"] == "raw_leads_caf\\xe9.csv"
    assert entry["status"] == "refused"
    assert entry["reason"] == (
        "is not read: its name is not UTF-8 text (the bytes shown as \\x..); rename the file"
    )
    # The load stops on it, naming it as UTF-8 text.
    with pytest.raises(loader.LoadError) as stopped:
        loader.load_into(
            loader.DuckDBDestination(duckdb.connect()),
            loader.LoadSettings(raw_path=folder, settle_seconds=0),
        )
    assert "  - raw_leads_caf\\xe9.csv is not read: its name is not UTF-8" in str(stopped.value)


def test_a_folder_that_cannot_be_listed_is_a_message(tmp_path: Path, monkeypatch):
    folder = tmp_path / "exports"
    folder.mkdir()

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)
    (entry,) = export_files.list_folder(str(folder), "csv", None)
    assert entry["status"] == "refused"
    assert entry["reason"] == f"raw_path {folder} cannot be listed: Permission denied"


def test_a_cut_short_parquet_file_is_called_that(tmp_path: Path):
    whole = tmp_path / "whole.parquet"
    duckdb.sql("copy (select 'L1' as lead_id) to '" + str(whole) + "' (format parquet)")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:-20])
    result = export_files.inspect_file(str(cut), "parquet", ["lead_id"], "utf-8")
    assert result["problems"] == [
        f"is a damaged or incomplete Parquet file ({cut.stat().st_size:,} bytes): it starts as "
        "one but does not end with PAR1 (cut short while copied or still being written?); "
        "copy it again"
    ]


# --- files in flight --------------------------------------------------------------------------


def test_a_file_rewritten_with_its_size_and_time_restored_is_a_change(published, builds):
    """The publisher compares checksums, not only sizes and times: the next
    publish rebuilds from scratch, saying which file and why."""
    project, exports, _, _ = published
    build_a, _, counts_b = builds
    restore_a(published, build_a)
    path = exports / "raw_leads.csv"
    original, stat = path.read_bytes(), path.stat()
    try:
        changed = original.replace(b"outbound", b"OUTBOUND", 1)
        assert changed != original and len(changed) == len(original)
        path.write_bytes(changed)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        result = run_publisher(published)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert result.returncode == 0, result.stderr
    assert (
        "publish: rebuilding from scratch: export file raw_leads.csv changed (same size and "
        "time, other content: its checksum differs)"
    ) in result.stderr
    assert which_build(project) == counts_b


def test_a_file_written_in_two_steps_is_waited_for_and_recorded_whole(published, builds):
    """An upload still running when the publish starts: the publisher waits
    until the file has not changed for export_settle_seconds, saying so,
    and records the file as it is once complete."""
    exports = published[1]
    build_a, _, _ = builds
    restore_a(published, build_a)
    late = exports / "raw_lead_transitions_late.csv"
    rows = "lead_id,stage_key,entered_at\nLATE-1,qualification,2025-03-01\n"
    late.write_text(rows[:30])
    try:
        publisher = run_publisher(
            published, env={"PIPELINE_EXPORT_SETTLE_SECONDS": "2"}, wait=False
        )
        time.sleep(1)
        late.write_text(rows)  # the second half arrives while the publisher waits
        _, err = publisher.communicate(timeout=60)
        assert publisher.returncode == 0, err
        assert "publish: waiting for raw_lead_transitions_late.csv to settle: written " in err
        assert "s ago, less than export_settle_seconds (2)" in err
    finally:
        late.unlink()


def test_a_file_that_changes_while_the_build_reads_it_is_not_published(published, builds):
    project, exports, _, _ = published
    build_a, counts_a, _ = builds
    restore_a(published, build_a)
    path = exports / "raw_lead_transitions.csv"
    original, stat = path.read_bytes(), path.stat()
    publisher, _ = started_publisher(published, "3")
    try:
        path.write_bytes(original + b"LATE-2,qualification,2025-03-01\n")
        _, err = publisher.communicate(timeout=60)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert publisher.returncode == 1
    size = len(original)
    assert (
        f"publish: error: export file raw_lead_transitions.csv changed ({size:,} bytes when read, "
        f"{size + 32:,} now) while the build read it (still being written?): build again once "
        f"it is complete; {project.database} is unchanged"
    ) in err, err
    assert which_build(project) == counts_a


def test_a_plain_build_leaves_a_file_written_a_moment_ago_for_the_next_one(tmp_path: Path):
    """Without the publisher's wait (a plain dbt build): a new export file
    younger than export_settle_seconds is listed as waiting and not read; the
    next build reads it. Every raw row read is still accounted for."""
    exports = tmp_path / "exports"
    write_base_exports(exports)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}
    project.dbt(*MODELS_ONLY)
    new = exports / "raw_leads_new.csv"
    new.write_text(
        "lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\n"
        "NEW-1,2025-02-01T00:00:00Z,web,smb,rep_01,10\n"
    )
    project.dbt(
        "build", "--exclude-resource-type", "unit_test", extra_vars={"export_settle_seconds": 3600}
    )
    [row] = project.query(
        "select status, reason, row_count from marts.rpt_export_files "
        "where file_name = 'raw_leads_new.csv'"
    )
    assert row["status"] == "waiting" and row["row_count"] is None
    assert row["reason"].startswith("written ")
    assert row["reason"].endswith(
        "s ago, less than export_settle_seconds (3600): left for the next build, in case it is "
        "still being written"
    )
    assert project.query("select * from marts.rejected_leads where lead_id = 'NEW-1'") == []

    project.dbt(*MODELS_ONLY, extra_vars={"export_settle_seconds": 0})
    [row] = project.query(
        "select status, row_count from marts.rpt_export_files where file_name = 'raw_leads_new.csv'"
    )
    assert (row["status"], row["row_count"]) == ("read", 1)


def test_a_file_that_changes_while_it_is_inspected_waits(tmp_path: Path, monkeypatch):
    path = tmp_path / "raw_leads.csv"
    path.write_text("lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\n")
    inspect = loader.inspect_file

    def inspect_while_it_grows(*args):
        result = inspect(*args)
        with path.open("a") as handle:
            handle.write("L1,2025-01-01,web,smb,rep,1\n")
        return result

    monkeypatch.setattr(loader, "inspect_file", inspect_while_it_grows)
    (entry,) = export_files.list_folder(str(tmp_path), "csv", None)
    assert loader.inspect_settled(entry, "utf-8") is None, "left for the next load"


def test_an_export_folder_the_publisher_cannot_read_is_one_line(
    tmp_path: Path, monkeypatch, capsys
):
    """As root (CI) no folder is unreadable: the refusal is simulated."""
    from sales_pipeline import publish

    exports = tmp_path / "exports"
    exports.mkdir()
    real_iterdir = Path.iterdir

    def denied(self):
        if self == exports:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", denied)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # pytest keeps its SIGTERM
    code = publish.main(
        ["--warehouse", str(tmp_path / "w.duckdb"), "--raw-path", str(exports), "--", "--help"]
    )
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"publish: error: cannot read the build's inputs: {exports}: Permission denied; "
        f"{tmp_path / 'w.duckdb'} is unchanged"
    ]


# --- a failed build says why ------------------------------------------------------------------


def test_dates_get_the_format_that_reads_every_one_of_them():
    from sales_pipeline.failed_build import date_advice

    assert date_advice(["31/01/2024", "01/02/2024"]) == (
        "dates that are not ISO-8601: set the var input_timestamp_format: '%d/%m/%Y', "
        "which reads them"
    )
    assert date_advice(["01/02/2024", "03/04/2024"]) == (
        "dates that are not ISO-8601: set the var input_timestamp_format: '%d/%m/%Y' or "
        "'%m/%d/%Y' (the values shown fit both: look for a day after the 12th to tell which)"
    )
    assert date_advice(["12/31/2024 17:45"]) == (
        "dates that are not ISO-8601: set the var input_timestamp_format: '%m/%d/%Y %H:%M', "
        "which reads them"
    )
    assert date_advice(["yesterday"]) == (
        "dates that are not ISO-8601 (2025-01-31 or 2025-01-31T10:00:00Z): set the var "
        "input_timestamp_format to the strptime format they are written in"
    )
    assert date_advice(["31.01.2024"], "%d/%m/%Y") == (
        "they do not match input_timestamp_format '%d/%m/%Y'; set the var "
        "input_timestamp_format: '%d.%m.%Y', which reads them"
    )


def test_a_build_stopped_by_decimal_commas_names_the_reason_and_the_line(tmp_path: Path):
    """rejected rows by reason from a failed build's copy, with the first
    value's file and line, as the publisher prints them."""
    from sales_pipeline.failed_build import explain_rejections

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "raw_leads.csv").write_text(
        "lead_id;created_at;lead_source;segment;owner_id;deal_amount_usd\n"
        "A;2025-01-01;web;smb;r1;1000\n"
        'B;2025-01-01;web;smb;r1;"1.234,50"\n'
        'C;2025-01-01;web;smb;r1;"99,90"\n'
    )
    database = tmp_path / "failed.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.rpt_data_quality as select * from (values "
            "('raw_leads', 'accepted', null, 1), ('raw_leads', 'rejected', "
            "'unparseable_deal_amount', 2)) as t(table_name, outcome, reason, row_count)"
        )
        connection.execute(
            "create table marts.rejected_leads as select * from (values "
            "('B', '1.234,50', 'unparseable_deal_amount'), ('C', '99,90', "
            "'unparseable_deal_amount')) as t(lead_id, deal_amount_text, rejection_reason)"
        )
    assert explain_rejections(database, str(exports), 0.05) == [
        "66.7% of the 3 raw_leads rows were quarantined, above max_rejected_share (0.05):",
        "  - unparseable_deal_amount: 2 rows (66.7%), e.g. '1.234,50' (raw_leads.csv line 3): "
        "amounts that are not plain numbers: export them with a decimal point and no thousands "
        "separators (1234.56)",
    ]
    assert explain_rejections(database, str(exports), 0.7) == []


def test_a_build_out_of_memory_names_the_setting_to_raise(tmp_path: Path, monkeypatch):
    from sales_pipeline.failed_build import explain_out_of_memory

    (tmp_path / "target").mkdir()
    results = {
        "results": [
            {"unique_id": "model.sales_pipeline.stg_crm__leads", "status": "success"},
            {
                "unique_id": "model.sales_pipeline.int_leads_checked",
                "status": "error",
                "message": "Runtime Error\n  Out of Memory Error: could not allocate block",
            },
        ]
    }
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(results))
    monkeypatch.setenv("PIPELINE_DUCKDB_MEMORY_LIMIT", "1GB")
    assert explain_out_of_memory(tmp_path) == [
        "DuckDB ran out of memory building int_leads_checked with memory_limit 1GB (env "
        "PIPELINE_DUCKDB_MEMORY_LIMIT): raise it, e.g. PIPELINE_DUCKDB_MEMORY_LIMIT=16GB (a "
        "build needs about 1 GB per 10 M stage changes), or set PIPELINE_DUCKDB_THREADS=1, "
        "which needs less memory and takes longer"
    ]
    results["results"].pop()
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(results))
    assert explain_out_of_memory(tmp_path) == []
