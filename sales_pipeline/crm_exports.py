"""Map a real Salesforce export into the warehouse's raw input files and config seeds.

``map_salesforce(source, out)``, returning a ``MappingReport``; from the
shell: scripts/map_crm_exports.py. Salesforce only: a Pipedrive export
(``deal_changes.csv`` + ``stages.csv``) is landed as its adapter's tables by
``python -m sales_pipeline.crm_export_tables pipedrive`` and read by the
Pipedrive adapter (``crm: pipedrive``, ``crm_loader: export``;
models/staging/pipedrive), which does its mapping.

Writes into ``out`` (created if missing; never into the export folder, and
no export file is copied):

* ``raw_leads.csv``: lead_id, created_at, lead_source, segment, owner_id,
  deal_amount_usd
* ``raw_lead_transitions.csv``: lead_id, stage_key (the stage entered),
  entered_at
* ``pipeline_stages.csv``, ``stage_benchmarks.csv``, ``revenue_targets.csv``:
  the config seeds for the export's stages (copy them over ``seeds/config/``).

and returns the mapping report: data rows read per export file, rows written
per output file, and every export row that was deliberately not mapped, with
the reason. Every row read is either mapped or counted as not mapped.

Values are copied as written: no timestamp is reformatted, no id changed.
Output files are UTF-8 without BOM, ``\\n`` line ends, minimal quoting.

Salesforce (``Opportunity.csv`` + ``Opportunity History.csv``, e.g. the
Preppin' Data 2022 week 23 extract)
---------------------------------------------------------------------------
* raw_leads, one row per Opportunity row: lead_id = Id, created_at =
  CreatedDate (as written: dd/mm/yyyy, so build with the var
  ``input_timestamp_format: '%d/%m/%Y'``), lead_source = LeadSource, segment
  empty (an Opportunity has no segment), owner_id = OwnerId, deal_amount_usd
  = Amount (the org's currency; the extract has no currency column).
* raw_lead_transitions, one row per history row: lead_id = OppID, stage_key
  = slug of StageName (``Negotiation/Review`` -> ``negotiation_review``),
  entered_at = CreatedDate (a date, as written). No row is invented: an
  opportunity whose current StageName differs from its last history stage
  keeps the history (the extract has no time for the missing change); the
  report counts them.
* pipeline_stages: every StageName of the history, ordered by its SortOrder
  (Salesforce's stage sequence) and renumbered 1..n; ``Closed Won`` is the
  won stage, ``Closed Lost`` the lost stage (no order), the others open.
  StageName decides, never the IsWon/IsClosed flags. default_expected_days is
  empty: the warehouse derives thresholds from the history.
* revenue_targets: a placeholder to replace with the team's goals, so that
  the plan mart has something to work back from: the three months after the
  last history date, each at the export's average won amount per month (sum
  of Amount over Closed Won opportunities / calendar months from the first
  to the last history date), avg_deal_size_usd empty (the observed average).

stage_benchmarks.csv has its header and no rows. There is no published
conversion benchmark for these CRM-specific stages; the demo's figures
describe other stages (qualification, discovery, ...), so borrowing them
would invent a diagnosis. Add rows with your industry's figures.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

STAGE_COLUMNS = ("stage_key", "stage_name", "stage_order", "stage_type", "default_expected_days")
BENCHMARK_COLUMNS = ("stage_key", "benchmark_conversion_rate", "benchmark_source")
TARGET_COLUMNS = ("target_month", "revenue_target_usd", "avg_deal_size_usd")

RAW_LEADS = "raw_leads.csv"
RAW_TRANSITIONS = "raw_lead_transitions.csv"
PIPELINE_STAGES = "pipeline_stages.csv"
STAGE_BENCHMARKS = "stage_benchmarks.csv"
REVENUE_TARGETS = "revenue_targets.csv"

SALESFORCE_OPPORTUNITIES = "Opportunity.csv"
SALESFORCE_HISTORY = "Opportunity History.csv"
SALESFORCE_WON = "Closed Won"
SALESFORCE_LOST = "Closed Lost"
SALESFORCE_DATE_FORMAT = "%d/%m/%Y"
TARGET_MONTHS_AHEAD = 3

Row = dict[str, str]


@dataclass
class MappingReport:
    """Where every export row went.

    ``rows_read``: data rows per export file. ``rows_mapped``: rows of each
    export file that went into an output file. ``not_mapped``: the other rows,
    by reason. ``rows_written``: data rows per output file. ``notes``: facts
    about the export worth knowing before reading the marts.
    """

    crm: str
    source: Path
    out: Path
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_mapped: dict[str, int] = field(default_factory=dict)
    not_mapped: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def unaccounted(self) -> dict[str, int]:
        """Per export file, rows read minus mapped minus not mapped (all 0 when sound)."""
        return {
            name: read - self.rows_mapped.get(name, 0) - sum(self.not_mapped.get(name, {}).values())
            for name, read in self.rows_read.items()
        }

    def lines(self) -> list[str]:
        lines = [f"{self.crm}: {self.source} -> {self.out}"]
        for name, read in self.rows_read.items():
            lines.append(f"  read {name}: {read} rows, mapped {self.rows_mapped.get(name, 0)}")
            for reason, count in sorted(self.not_mapped.get(name, {}).items()):
                lines.append(f"    not mapped: {count} ({reason})")
        for name, written in self.rows_written.items():
            lines.append(f"  wrote {name}: {written} rows")
        lines.extend(f"  note: {note}" for note in self.notes)
        problems = {name: n for name, n in self.unaccounted().items() if n}
        if problems:
            lines.append(f"  UNACCOUNTED rows: {problems}")
        return lines


def slug(name: str) -> str:
    """A stage key from a CRM stage name: ``Negotiation/Review`` -> ``negotiation_review``."""
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    if not key:
        raise ValueError(f"stage name {name!r} gives an empty stage key")
    return key


def read_rows(path: Path) -> list[Row]:
    """Data rows of a CSV export (a UTF-8 BOM and CRLF line ends are fine)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{key: value or "" for key, value in row.items()} for row in csv.DictReader(handle)]


def write_rows(path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write a header and the rows; returns the number of data rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_outputs(
    report: MappingReport,
    leads: list[Sequence[str]],
    transitions: list[Sequence[str]],
    stages: list[Sequence[str]],
    targets: list[Sequence[str]],
) -> None:
    report.out.mkdir(parents=True, exist_ok=True)
    files = (
        (RAW_LEADS, LEAD_COLUMNS, leads),
        (RAW_TRANSITIONS, TRANSITION_COLUMNS, transitions),
        (PIPELINE_STAGES, STAGE_COLUMNS, stages),
        (STAGE_BENCHMARKS, BENCHMARK_COLUMNS, []),
        (REVENUE_TARGETS, TARGET_COLUMNS, targets),
    )
    for name, columns, rows in files:
        report.rows_written[name] = write_rows(report.out / name, columns, rows)


def require_columns(rows: list[Row], path: Path, columns: Sequence[str]) -> None:
    missing = [column for column in columns if rows and column not in rows[0]]
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}")


# --------------------------------------------------------------------------- salesforce


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def salesforce_stages(history: list[Row], opportunities: list[Row]) -> list[tuple[str, ...]]:
    """pipeline_stages rows: history StageNames by SortOrder; Closed Won won, Closed Lost lost."""
    sort_orders: dict[str, set[int]] = {}
    for row in history:
        sort_orders.setdefault(row["StageName"], set()).add(int(row["SortOrder"]))
    for row in opportunities:
        if row["StageName"] not in sort_orders:
            raise ValueError(f"StageName {row['StageName']!r} has no SortOrder in the history")
    ambiguous = {name: orders for name, orders in sort_orders.items() if len(orders) != 1}
    if ambiguous:
        raise ValueError(f"StageNames with more than one SortOrder: {ambiguous}")
    if SALESFORCE_WON not in sort_orders:
        raise ValueError(f"no {SALESFORCE_WON!r} stage in the history")
    ordered = sorted(
        (name for name in sort_orders if name != SALESFORCE_LOST),
        key=lambda name: (min(sort_orders[name]), name),
    )
    if ordered[-1] != SALESFORCE_WON:
        raise ValueError(f"{SALESFORCE_WON!r} must come after every open stage, got {ordered}")
    rows = [
        (slug(name), name, str(order), "won" if name == SALESFORCE_WON else "open", "")
        for order, name in enumerate(ordered, start=1)
    ]
    if SALESFORCE_LOST in sort_orders:
        rows.append((slug(SALESFORCE_LOST), SALESFORCE_LOST, "", "lost", ""))
    keys = [row[0] for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"stage names give clashing stage keys: {sorted(keys)}")
    return rows


def map_salesforce(source: Path, out: Path) -> MappingReport:
    """Map a Salesforce Opportunity + OpportunityHistory extract (see the module doc)."""
    report = MappingReport("salesforce", source, out)
    opportunities_path = source / SALESFORCE_OPPORTUNITIES
    history_path = source / SALESFORCE_HISTORY
    opportunities = read_rows(opportunities_path)
    history = read_rows(history_path)
    require_columns(
        opportunities,
        opportunities_path,
        ("Id", "CreatedDate", "LeadSource", "OwnerId", "Amount", "StageName"),
    )
    require_columns(history, history_path, ("OppID", "CreatedDate", "StageName", "SortOrder"))
    report.rows_read = {
        SALESFORCE_OPPORTUNITIES: len(opportunities),
        SALESFORCE_HISTORY: len(history),
    }

    leads = [
        (row["Id"], row["CreatedDate"], row["LeadSource"], "", row["OwnerId"], row["Amount"])
        for row in opportunities
    ]
    transitions = [(row["OppID"], slug(row["StageName"]), row["CreatedDate"]) for row in history]
    report.rows_mapped = {SALESFORCE_OPPORTUNITIES: len(leads), SALESFORCE_HISTORY: len(history)}
    stages = salesforce_stages(history, opportunities)

    def parse(text: str) -> date:
        return datetime.strptime(text, SALESFORCE_DATE_FORMAT).date()

    history_dates = [parse(row["CreatedDate"]) for row in history]
    first, last = min(history_dates), max(history_dates)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    won_amount = sum(
        float(row["Amount"])
        for row in opportunities
        if row["StageName"] == SALESFORCE_WON and row["Amount"].strip()
    )
    monthly_target = round(won_amount / months)
    targets = [
        (add_months(last, ahead).isoformat(), str(monthly_target), "")
        for ahead in range(1, TARGET_MONTHS_AHEAD + 1)
    ]
    write_outputs(report, leads, transitions, stages, targets)

    created = {row["Id"]: parse(row["CreatedDate"]) for row in opportunities}
    current = {row["Id"]: row["StageName"] for row in opportunities}
    latest: dict[str, tuple[date, int, str]] = {}
    before_created = 0
    for position, (row, day) in enumerate(zip(history, history_dates, strict=True)):
        candidate = (day, position, row["StageName"])
        latest[row["OppID"]] = max(latest.get(row["OppID"], candidate), candidate)
        before_created += row["OppID"] in created and day < created[row["OppID"]]
    stage_differs = sum(latest[opp][2] != stage for opp, stage in current.items() if opp in latest)
    unknown = {row["OppID"] for row in history} - set(current)
    stale_flags = sum(
        (row["IsWon"].upper() == "TRUE") != (row["StageName"] == SALESFORCE_WON)
        for row in opportunities
        if "IsWon" in row
    )
    report.notes += [
        f"history dates {first.isoformat()}..{last.isoformat()}; timestamps kept as written "
        f"(dd/mm/yyyy): build with input_timestamp_format '{SALESFORCE_DATE_FORMAT}'",
        f"{before_created} history rows are dated before their opportunity's CreatedDate",
        f"{stage_differs} opportunities' current StageName differs from their latest history "
        "stage (no transition invented: the extract has no time for it)",
        f"{len(set(current) - set(latest))} opportunities without history; "
        f"{len(unknown)} history OppIDs not in {SALESFORCE_OPPORTUNITIES}",
        f"{stale_flags} opportunities' IsWon flag disagrees with StageName (ignored)",
        f"{sum(not row['Amount'].strip() for row in opportunities)} opportunities have no Amount",
        f"revenue_targets: placeholder, won amount {won_amount:.0f} / {months} months = "
        f"{monthly_target} per month for the {TARGET_MONTHS_AHEAD} months after {last}",
        "stage_benchmarks: no rows (no published benchmark for these stages)",
    ]
    return report
