"""The conventions check (dbt-bouncer.yml, make conventions) fails a model
without a primary-key test: dbt-bouncer runs with the project's own config on
a copy of the manifest from which fct_stage_conversion's primary-key test is
removed. No build: make test has written target/manifest.json before pytest
runs, and without it `dbt parse` makes one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_project_harness import DBT, REPO

BOUNCER = Path(sys.executable).with_name("dbt-bouncer")
CONFIG = REPO / "dbt-bouncer.yml"
MODEL = "model.sales_pipeline.fct_stage_conversion"
CHECK = "check_model_has_unique_test"
# The project's primary-key tests: unique on a column, or
# unique_combination_of_columns (tests/generic) on a composite grain.
PRIMARY_KEY_TESTS = {"unique", "unique_combination_of_columns"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The manifest make test wrote, or a fresh one from dbt parse."""
    path = REPO / "target/manifest.json"
    if not path.exists():
        target = tmp_path_factory.mktemp("parsed")
        subprocess.run(
            [
                str(DBT),
                "parse",
                "--quiet",
                "--project-dir",
                str(REPO),
                "--profiles-dir",
                str(REPO),
                "--target-path",
                str(target),
            ],
            check=True,
            cwd=REPO,
        )
        path = target / "manifest.json"
    return json.loads(path.read_text())


def without_primary_key_tests(manifest: dict, model: str) -> tuple[dict, list[str]]:
    """A copy of the manifest without the model's primary-key tests, and their ids."""
    manifest = json.loads(json.dumps(manifest))
    removed = [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test"
        and node.get("attached_node") == model
        and (node.get("test_metadata") or {}).get("name") in PRIMARY_KEY_TESTS
    ]
    for unique_id in removed:
        del manifest["nodes"][unique_id]
        manifest["parent_map"].pop(unique_id, None)
        for children in manifest["child_map"].values():
            if unique_id in children:
                children.remove(unique_id)
    return manifest, removed


def bouncer_failures(manifest: dict, folder: Path) -> tuple[int, list[dict]]:
    """Run dbt-bouncer's manifest checks with the project's config on the
    manifest: its exit code and its failures (check_run_id, unique_id, ...)."""
    (folder / "target").mkdir(parents=True)
    (folder / "target/manifest.json").write_text(json.dumps(manifest))
    # The config reads the artifacts from target/ beside it.
    shutil.copy(CONFIG, folder / "dbt-bouncer.yml")
    output = folder / "failures.json"
    result = subprocess.run(
        [
            str(BOUNCER),
            "--config-file",
            "dbt-bouncer.yml",
            "--only",
            "manifest_checks",
            "--output-file",
            str(output),
            "--output-only-failures",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert output.exists(), result.stdout + result.stderr
    return result.returncode, json.loads(output.read_text())


def fails_check(failures: list[dict], check: str, model: str) -> list[dict]:
    return [
        failure
        for failure in failures
        if failure["check_run_id"].split(":")[0] == check and failure["unique_id"] == model
    ]


def test_a_model_without_a_primary_key_test_fails_the_conventions(manifest, tmp_path):
    stripped, removed = without_primary_key_tests(manifest, MODEL)
    assert removed, f"{MODEL} has no primary-key test to remove"

    # As committed, the model passes the check: the failure below is the removal's.
    _, failures = bouncer_failures(manifest, tmp_path / "as_committed")
    assert not fails_check(failures, CHECK, MODEL)

    returncode, failures = bouncer_failures(stripped, tmp_path / "stripped")
    assert returncode != 0
    named = fails_check(failures, CHECK, MODEL)
    assert len(named) == 1, f"{CHECK} did not fail {MODEL}: is it in {CONFIG.name}?"
    message = named[0]["failure_message"]
    assert "`fct_stage_conversion` does not have a test for uniqueness" in message


def test_unit_test_names_fit_postgres_identifiers(manifest):
    # dbt names a unit test's relations after it on PostgreSQL, whose
    # identifiers stop at 63 characters: a longer name fails only there.
    too_long = [test["name"] for test in manifest["unit_tests"].values() if len(test["name"]) > 63]
    assert not too_long
