"""The dbt command lines the assets run, as small pure functions."""

from __future__ import annotations

import json


def dbt_vars(as_of_date: str | None, input_vars: dict[str, str] | None = None) -> dict:
    """dbt vars of a refresh: the as-of date it describes and what it reads
    (BuildInputs.dbt_vars: the team's export folder, configuration, ...)."""
    run_vars: dict[str, object] = dict(input_vars or {})
    if as_of_date:
        run_vars["as_of_date"] = as_of_date
    return run_vars


def refresh_args(as_of_date: str | None, input_vars: dict[str, str] | None = None) -> list[str]:
    """`dbt build` of the warehouse as of a date (selection is added by dagster-dbt)."""
    return ["build", "--vars", json.dumps(dbt_vars(as_of_date, input_vars))]


def history_day_args(
    day: str, input_vars: dict[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """The two dbt commands that add one past day to the history table.

    First every model but the history is computed as of that day into the
    `<schema>_as_of` schemas (the var history_as_of_build), so the published
    marts keep describing the latest date; then the history model (and its
    tests) copies that day's stage conversion in.
    """
    run_vars = {**dbt_vars(day, input_vars), "history_as_of_build": True}
    as_of_vars = json.dumps(run_vars)
    compute = ["run", "--exclude", "tag:history", "--vars", as_of_vars]
    record = ["build", "--vars", as_of_vars]
    return compute, record
