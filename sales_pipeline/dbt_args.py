"""The dbt command lines the assets run, as small pure functions."""

from __future__ import annotations

import json


def dbt_vars(
    as_of_date: str | None,
    input_vars: dict[str, str] | None = None,
    history_start: str | None = None,
) -> dict:
    """dbt vars of a refresh: the as-of date it describes, the first day of
    the history it computes with it, and what it reads (BuildInputs.dbt_vars:
    the team's export folder, configuration, ...)."""
    run_vars: dict[str, object] = dict(input_vars or {})
    if as_of_date:
        run_vars["as_of_date"] = as_of_date
    if history_start:
        run_vars["history_start"] = history_start
    return run_vars


def refresh_args(
    as_of_date: str | None,
    input_vars: dict[str, str] | None = None,
    history_start: str | None = None,
) -> list[str]:
    """`dbt build` of the warehouse as of a date, with the history from
    history_start (selection is added by dagster-dbt)."""
    return ["build", "--vars", json.dumps(dbt_vars(as_of_date, input_vars, history_start))]
