"""Independent Python reference implementation of the sales-pipeline metric spec.

Written from the metric definitions (docs/metrics.md) alone (it shares no code with the
dbt SQL). pytest compares the dbt marts against what this module computes.

Only the Python 3.11 standard library is used (zoneinfo reads the system's or the
tzdata package's time zone database).

Public interface
----------------
- ``read_csv_rows(path)``  -> list of dicts (utf-8-sig, '' -> None)
- ``compute_marts(raw_leads, raw_transitions, pipeline_stages, stage_benchmarks,
  revenue_targets, as_of_date=None, history_start=None, expected_days_factor=2.0,
  expected_days_basis="average", diagnosis_bandwidth_threshold=0.25,
  diagnosis_strict_threshold=0.05, input_timestamp_format=None, conversion_change_days=28,
  business_time_zone="UTC", movement_windows_days=(7, 28), likely_dead_multiple=3.0)``
  -> {mart name: rows} for every mart of ``MART_COLUMNS``, fct_pipeline_movement
  (§16) included: per window of ``movement_windows_days``, owner, open stage and
  movement, the visits (``leads``) and their ``amount_reporting``
- ``stage_conversion_history(raw_leads, raw_transitions, pipeline_stages,
  stage_benchmarks, days, **options)`` -> fct_stage_conversion_daily's rows for
  those days, each day's what a build dated that day gives
- ``history_first_day(as_of, history_start, movement_windows_days)`` -> the
  history's first day (§13, §16)
- §17: compute_marts also fills fct_revenue_forecast, fct_forecast_backtest
  and rpt_forecast_accuracy (``revenue_forecast_marts``; the parts:
  ``forecast_as_of``, ``forecast_backtest``, ``forecast_accuracy``,
  ``time_to_win`` / ``time_to_lose`` (the observations of W and L),
  ``won_curve`` / ``not_yet_won`` (W or L), ``open_lead_chance``,
  ``new_lead_chance``, ``forecast_months``, ``inflow_months``,
  ``forecast_dates``)

Choices where the spec is silent (see ``AMBIGUITIES`` below for the list).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import statistics
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

Row = dict[str, str | None]

# Columns of each published mart, in docs/metrics.md section 7 order.
MART_COLUMNS: dict[str, list[str]] = {
    "fct_lead_stage_visits": [
        "lead_id",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "visit_number",
        "entered_at",
        "exited_at",
        "next_stage_key",
        "exit_type",
        "dwell_days",
        "days_in_stage",
        "is_old",
        "owner_id",
        "lead_source",
        "segment",
        "deal_amount",
        "deal_currency",
        "deal_amount_reporting",
    ],
    "fct_stage_conversion": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "stage_order",
        "next_stage_key",
        "leads_entered",
        "leads_advanced",
        "leads_completed",
        "leads_old",
        "leads_in_window",
        "conversion_rate",
        "avg_days_to_advance",
        "expected_days_to_convert",
        "old_lead_share",
        "benchmark_conversion_rate",
        "benchmark_gap",
        "diagnosis",
    ],
    "fct_pipeline_plan": [
        "target_month",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "stage_order",
        "revenue_target_usd",
        "avg_deal_size_usd",
        "deals_needed",
        "cumulative_conversion_rate",
        "win_probability",
        "leads_needed",
        "leads_in_stage",
        "lead_gap",
        "reporting_currency",
    ],
    "fct_stage_flow": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "to_stage_key",
        "leads_advanced_to",
        "share_of_advanced",
        "flow_rate",
    ],
    "rpt_old_leads": [
        "as_of_date",
        "lead_id",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "entered_at",
        "days_in_stage",
        "expected_days_to_convert",
        "days_overdue",
        "is_likely_dead",
        "owner_id",
        "lead_source",
        "segment",
        "deal_amount",
        "deal_currency",
        "deal_amount_reporting",
    ],
    "fct_stage_conversion_by_dimension": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "dimension",
        "dimension_value",
        "stage_key",
        "stage_order",
        "leads_entered",
        "leads_advanced",
        "leads_completed",
        "leads_old",
        "leads_in_window",
        "conversion_rate",
        "old_lead_share",
        "expected_days_to_convert",
    ],
    "fct_win_rates": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "dimension",
        "dimension_value",
        "leads_decided",
        "leads_won",
        "leads_lost",
        "win_rate",
        "avg_won_deal_usd",
        "avg_sales_cycle_days",
        "median_sales_cycle_days",
        "reporting_currency",
    ],
    "fct_pipeline_value": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "stage_order",
        "leads_open",
        "leads_old",
        "pipeline_usd",
        "old_pipeline_usd",
        "win_probability",
        "weighted_pipeline_usd",
        "target_month",
        "revenue_target_usd",
        "coverage_ratio",
        "weighted_coverage_ratio",
        "pipeline_velocity_usd_per_day",
        "reporting_currency",
    ],
    "fct_cohort_conversion": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "cohort_month",
        "stage_key",
        "stage_order",
        "stage_type",
        "leads_created",
        "leads_reached",
        "reached_share",
        "leads_in_stage",
        "won_share",
        "leads_still_open",
    ],
    "rpt_stage_conversion_change": [
        "as_of_date",
        "compared_date",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "stage_order",
        "earlier_conversion_rate",
        "conversion_rate",
        "conversion_rate_change",
        "earlier_leads_old",
        "leads_old",
        "leads_old_change",
        "earlier_leads_pending",
        "leads_pending",
        "leads_pending_change",
    ],
    "fct_stage_time_to_advance": [
        "as_of_date",
        "pipeline_id",
        "pipeline_name",
        "stage_key",
        "stage_order",
        "visits_observed",
        "visits_advanced",
        "visits_censored",
        "visits_still_open",
        "avg_days_to_advance",
        "km_median_days_to_advance",
        "km_p75_days_to_advance",
        "expected_days_basis",
        "expected_days_to_convert",
    ],
    "fct_pipeline_movement": [
        "window_days",
        "from_date",
        "to_date",
        "pipeline_id",
        "pipeline_name",
        "owner_id",
        "stage_key",
        "stage_order",
        "movement",
        "movement_group",
        "other_stage_key",
        "leads",
        "amount_reporting",
        "reporting_currency",
    ],
    "fct_revenue_forecast": [
        "as_of_date",
        "forecast_month",
        "months_ahead",
        "pipeline_id",
        "pipeline_name",
        "forecast_source",
        "owner_id",
        "stage_key",
        "stage_order",
        "leads",
        "expected_won_deals",
        "expected_won_amount",
        "reporting_currency",
    ],
    "fct_forecast_backtest": [
        "as_of_date",
        "forecast_month",
        "months_ahead",
        "pipeline_id",
        "pipeline_name",
        "forecast_method",
        "stage_key",
        "forecast_won_deals",
        "actual_won_deals",
        "forecast_won_amount",
        "actual_won_amount",
        "error_amount",
        "absolute_percentage_error",
        "reporting_currency",
    ],
    "rpt_forecast_accuracy": [
        "pipeline_id",
        "pipeline_name",
        "forecast_method",
        "months_ahead",
        "months_compared",
        "mean_absolute_percentage_error",
        "bias",
        "reporting_currency",
    ],
}
# §17's marts: compute_marts fills them (compute_pipeline_marts leaves them empty).
FORECAST_MARTS = ("fct_revenue_forecast", "fct_forecast_backtest", "rpt_forecast_accuracy")

DIMENSIONS = ("owner_id", "lead_source", "segment")

# Each movement and its movement_group, in the order rows are sorted.
MOVEMENT_GROUPS = {
    "in_stage_at_start": "start",
    "new": "arrival",
    "from_earlier_stage": "arrival",
    "from_later_stage": "arrival",
    "reopened": "arrival",
    "advanced": "departure",
    "moved_back": "departure",
    "won": "departure",
    "lost": "departure",
    "stayed": "stayed",
    "became_old": "stayed",
    "in_stage_at_end": "end",
}
DEFAULT_MOVEMENT_WINDOWS = (7, 28)

AMBIGUITIES = """
- Event tie order (§2): (entered_at, lost-flag, stage_order with nulls last,
  stage_key). Stages missing from pipeline_stages (unknown keys) have no
  order and no type: they sort after every ordered open/won stage and before
  lost stages.
- exit_type (§2) is None when the visit has a successor but no rule applies
  (next stage unknown / without stage_order, or equal stage_order).
  A lost visit followed by an unknown stage is 'reopened' (unknown != lost).
- The last visit of a lead always has exit_type 'open' and a days_in_stage,
  whatever its stage type (won / lost included), as the spec says
  'open (no exit yet)'.
- Quarantine (as the warehouse's rejected_* tables): transition rows with an
  empty lead_id, an unparseable entered_at, an unknown stage_key, a lead_id
  that is not an accepted lead, or dated before the lead's created_at are
  left out, and the default as_of_date uses the accepted rows only. Lead
  rows with an empty lead_id, an unparseable created_at, an amount that is
  not a number or is negative are left out, and so is every row of a
  lead_id whose rows differ.
- Fractional seconds beyond 6 digits are truncated to microseconds.
- fct_stage_conversion.next_stage_key: ties on stage_order broken by stage_key.
- An open stage with an empty stage_order has no next stage, never 'advances'
  and has a null cumulative_conversion_rate; it is left out of the products of
  the other stages.
- deals_needed is None when revenue_target_usd is empty or avg_deal_size_usd is
  empty/0. leads_needed is None when deals_needed is None.
- Benchmark / stage rows with a repeated stage_key: the first one wins.
- The leads the win rates, pipeline value and cohorts count are the accepted
  leads created before as_of_at, or without a created_at (they form the
  cohort with an empty month).
- A dimension value is any value an existing lead has; every value gets a
  row per open stage. None is a value (leads without one).
- Cohorts: a lead reached a stage when it visited it or an open/won stage
  with a higher stage_order; won_share counts leads with any won visit.
- Pipeline value total row: stage_key None; its weighted pipeline sums the
  stages whose win probability is known (None when none is).
- Kaplan-Meier (§12): times are whole microseconds; a visit censored at an
  event's time is at risk at it; the median (75th percentile) is the first
  event time where the share not yet advanced is <= 1/2 (1/4), within 1e-9
  so that an exact half is not missed by a rounding error.
- With expected_days_basis km_median, a stage whose curve never reaches a
  half falls back to default_expected_days, as a stage without advanced
  visits does with the average.
- rpt_stage_conversion_change compares with the stage conversion as of
  exactly as_of_date - conversion_change_days, when that day is in the
  history (history_start through as_of_date); before it, the earlier values
  and the changes are None.
- Output rows are sorted: visits by (lead_id, visit_number); conversion by
  (stage_order, stage_key); plan by (target_month, stage_order, stage_key);
  old leads by (lead_id, stage_key); movement by (window_days, owner_id with
  None first, stage_order, stage_key, movement in MOVEMENT_GROUPS order,
  other_stage_key with None first).
- fct_pipeline_movement (§16): F is the next local midnight after from_date
  (naive UTC, like as_of_at), T is as_of_at. Every visit of an open stage
  is read from the visits as of the as-of date (fct_lead_stage_visits'
  leads, whatever their created_at).
- §16 "old at F": the visit (same lead_id and visit_number) is among the old
  visits of S's conversion computed from the visits as of F with F as the
  as-of instant: the cohort, pending status and expected_days_to_convert of
  a build dated from_date (expected_days_basis included). "Old at T": the
  visit's is_old. A stayed visit old at F (even if not at T, the threshold
  having risen) is `stayed`.
- §16 higher / lower between two open stages: by stage_order; an open stage
  without an order (the config checks refuse it) sorts after every ordered
  one, then by stage_key, as in the event tie order. A next stage that is
  neither open nor won counts as `lost`; a previous stage that is not open
  as `reopened`.
- §16 amount_reporting sums per visit: a lead counted twice in a row (two
  visits of S left the same way in the window) adds its amount twice, as
  leads counts it twice. Summed with math.fsum.
- §16 movement_windows_days: each whole number >= 1 (else ValueError); a
  window given twice is one window.
- §16 "the history always holds the windows' from_dates": compute_marts'
  first history day (for rpt_stage_conversion_change's compared date) is
  min(history_start or as_of_date - 364, as_of_date - longest window). Read
  literally, a history_start after the as-of date then still gives a
  history from as_of_date - longest window (§1's var table says such a
  date leaves the history empty; §16 is taken as the later rule).
- §17 "a build dated D": compute_marts calls project_marts as of each past
  forecast date D (movement off) and reads p(D, S) from its
  fct_pipeline_value.win_probability and the old leads at D from its
  rpt_old_leads ((lead_id, stage_key)); for the as-of date, the build's own.
  Visits, owners and deal_amount_reporting are the build's
  (fct_lead_stage_visits), cut at as_of_at of D.
- §17 forecast_month is the first day of the calendar month (also for month
  1 of a mid-month as-of date, whose window starts at as_of_at). `leads` is
  a float on every row (a count on open_pipeline rows).
- §17 days(j) and the inflow window's days are calendar days (dates), so a
  DST month has its usual count; c_j = w1 + (w2 - w1) / 2 in UTC instants.
- §17 the curves: every visit of S entered before as_of_at of D is an
  observation (a lead with two visits of S gives two), its W event at the
  lead's first won visit after it even if the lead later left the won
  stage; a visit censored at as_of_at - entered_at even when it was left
  for another open stage (or lost, then reopened). L's rules are read in
  their order: a lead open at D censors the visit in L even when the
  visit is a won event of W (won, then reopened); a visit left out of W
  (the lead lost at D) is an L event at the lead's first lost visit after
  it (the lead's current visit at D at the latest). W(t) and L(t) are 1
  for t <= 0.
- §17 open-lead chance: a denominator p x W(a) + (1 - p) x L(a) of exactly
  0 (floats) gives 0; in the marts it is never 0, since the lead's own
  visit, censored at a in both curves, is at risk at every u < a.
- §17 new_leads rows: leads = daily_inflow x days(k) (month k's own new
  leads); expected_won_deals = sum over j <= k of daily_inflow x days(j) x
  chance(j, k); expected_won_amount = that x the mean won amount (empty
  without one). Without p(S): deals 0 and amount empty, as for open leads.
  The mean won amount: each lead of the pipeline with a won visit entered
  in the inflow window, once, blank amounts skipped.
- §17 an open_pipeline row's amount is 0 (not empty) when a lead has a
  chance (possibly 0) and an amount.
- §17 backtest: a row for every past forecast date in the history and
  every month ahead ended by the build's as_of_at, even before any data
  (zeros). forecast_won_amount sums the rows' amounts (empty ones add 0);
  actual amounts sum the won leads' known deal_amount_reporting (0 when
  none). Actual wins of the pipeline rows count every lead of the pipeline
  (created after D, reopened, ...), each once per window.
  last_3_months_average = (sum over the inflow window's three months of
  that month's actual wins) / 3: a lead won in two of those months counts
  in both. weighted_pipeline: leads with an empty p add nothing.
- §17 rpt_forecast_accuracy: a row per pipeline, method and month ahead
  with at least one backtest pipeline row; with no month compared,
  mean_absolute_percentage_error and bias are empty.
- §17 row order: forecast by (months_ahead, open_pipeline before new_leads,
  owner with None first, stage order); backtest by (pipeline, as_of_date,
  months_ahead, the model's pipeline row then its stage rows, then
  weighted_pipeline, last_3_months_average); accuracy by (pipeline,
  method in that order, months_ahead).
"""


# ---------------------------------------------------------------------------
# CSV reading and value normalisation
# ---------------------------------------------------------------------------


def read_csv_rows(path: str) -> list[Row]:
    """Read a CSV file (utf-8-sig) into dicts, turning '' into None."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [
            {key: (value if value != "" else None) for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def norm_text(value: str | None) -> str | None:
    """Trim; empty after trimming -> None (ids)."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def norm_key(value: str | None) -> str | None:
    """Lower-case and trim; empty -> None (stage_key, lead_source, segment, stage_type)."""
    value = norm_text(value)
    return value.lower() if value is not None else None


def to_float(value: str | None) -> float | None:
    """A number, or ValueError. Amounts are decimals of 28 digits, 6 after
    the point: no NaN or infinity, under 10**22."""
    value = norm_text(value)
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or abs(number) >= 1e22:
        raise ValueError(f"not an amount: {value!r}")
    return number


def to_int(value: str | None) -> int | None:
    value = norm_text(value)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return int(float(value))


# ISO-8601 as exports write it: a date, optionally a time, and a zone only
# after a time, with nothing between them.
_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def parse_timestamp(
    value: str | None, input_format: str | None = None, zone: str = "UTC"
) -> dt.datetime | None:
    """ISO-8601 text -> naive UTC datetime (offsets converted, none = UTC).
    With input_format (a strptime format, the var input_timestamp_format)
    the text must match that format instead. spec 1 (revision of
    2026-12-04): a value with no time of day (a date alone, or a format
    without an hour) is local midnight of that day in zone."""
    value = norm_text(value)
    if value is None:
        return None
    if input_format is not None:
        stamp = dt.datetime.strptime(value, input_format)
        if stamp.tzinfo is not None:
            return stamp.astimezone(dt.UTC).replace(tzinfo=None)
        if not re.search("%[HIklTRXcr]", input_format):
            return local_midnight_as_utc(stamp.date(), zone)
        return stamp
    match = _TS_RE.match(value)
    if match is None:
        raise ValueError(f"unparseable timestamp: {value!r}")
    if match.group(4) is None:  # a date alone
        return local_midnight_as_utc(
            dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))), zone
        )
    match = _TS_RE.match(value)
    if match is None:
        raise ValueError(f"unparseable timestamp: {value!r}")
    year, month, day, hour, minute, second, frac, tz = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    stamp = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
    )
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        stamp -= sign * offset  # local time minus its offset = UTC
    return stamp


def local_midnight_as_utc(day: dt.date, zone: str) -> dt.datetime:
    """The day's local midnight in zone as a naive UTC time; where midnight
    does not exist (a DST change at midnight), the offset before the change
    gives the day's first instant."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def parse_date(value: str | dt.date | None) -> dt.date | None:
    """'YYYY-MM-DD' (or anything starting with it) -> date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = norm_text(value)
    if text is None:
        return None
    return dt.date.fromisoformat(text[:10])


def local_time(utc: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The wall-clock time in zone of a naive UTC time."""
    return utc.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)


def fractional_days(delta: dt.timedelta) -> float:
    """§2: seconds / 86,400."""
    return delta.total_seconds() / 86400.0


# ---------------------------------------------------------------------------
# Typed inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    name: str | None
    order: int | None
    type: str | None
    default_expected_days: float | None


@dataclass(frozen=True)
class Lead:
    lead_id: str
    created_at: dt.datetime | None
    lead_source: str | None
    segment: str | None
    owner_id: str | None
    deal_amount_usd: float | None
    # The amount's currency (a CRM adapter's; the generic raw_leads' is USD).
    deal_currency: str = "USD"


@dataclass(frozen=True)
class Event:
    lead_id: str
    stage_key: str
    entered_at: dt.datetime


@dataclass
class Visit:
    lead_id: str
    stage_key: str
    visit_number: int
    entered_at: dt.datetime
    exited_at: dt.datetime | None = None
    next_stage_key: str | None = None
    exit_type: str | None = None
    dwell_days: float | None = None
    days_in_stage: float | None = None
    is_old: bool = False


@dataclass
class StageConversion:
    stage: Stage
    leads_entered: int = 0
    leads_advanced: int = 0
    leads_completed: int = 0
    leads_old: int = 0
    leads_in_window: int = 0
    avg_days_to_advance: float | None = None
    expected_days_to_convert: float | None = None
    old_visits: list[Visit] = field(default_factory=list)
    time_to_advance: dict = field(default_factory=dict)
    # §5 advanced_to(S, T): the stage each advanced cohort lead stepped up into first.
    advanced_to: Counter = field(default_factory=Counter)

    @property
    def conversion_rate(self) -> float | None:
        # §4: CR = DL / (CQL + OQL)
        denominator = self.leads_completed + self.leads_old
        return self.leads_advanced / denominator if denominator else None

    @property
    def old_lead_share(self) -> float | None:
        # §6: OQL / (CQL + OQL)
        denominator = self.leads_completed + self.leads_old
        return self.leads_old / denominator if denominator else None


def load_stages(rows: Iterable[Row]) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    for row in rows:
        key = norm_key(row.get("stage_key"))
        if key is None or key in stages:
            continue
        stages[key] = Stage(
            key=key,
            name=norm_text(row.get("stage_name")),
            order=to_int(row.get("stage_order")),
            type=norm_key(row.get("stage_type")),
            default_expected_days=to_float(row.get("default_expected_days")),
        )
    return stages


def load_benchmarks(rows: Iterable[Row]) -> dict[str, float | None]:
    benchmarks: dict[str, float | None] = {}
    for row in rows:
        key = norm_key(row.get("stage_key"))
        if key is not None and key not in benchmarks:
            benchmarks[key] = to_float(row.get("benchmark_conversion_rate"))
    return benchmarks


def load_leads(
    rows: Iterable[Row],
    input_format: str | None = None,
    future_cutoff: dt.datetime | None = None,
    zone: str = "UTC",
) -> dict[str, Lead]:
    """Normalise; rows equal once typed collapse. Quarantined (left out):
    rows without lead_id, every row of a lead_id whose rows differ, a
    created_at that is not a timestamp or is after future_cutoff (the
    build's start plus future_tolerance_days), amounts that are not numbers
    or are negative."""
    by_id: dict[str, set[tuple[Lead, bool]]] = {}
    for row in rows:
        lead_id = norm_text(row.get("lead_id"))
        if lead_id is None:
            continue  # missing_lead_id
        usable = True
        try:
            amount = to_float(row.get("deal_amount_usd"))
        except ValueError:
            amount, usable = None, False  # unparseable_deal_amount
        try:
            created_at = parse_timestamp(row.get("created_at"), input_format, zone)
            created_key: object = created_at
        except ValueError:
            created_at, created_key, usable = None, norm_text(row.get("created_at")), False
        if amount is not None and amount < 0:
            usable = False  # negative_deal_amount
        if created_at is not None and future_cutoff is not None and created_at > future_cutoff:
            usable = False  # in_the_future
        lead = Lead(
            lead_id=lead_id,
            created_at=created_at,
            lead_source=norm_key(row.get("lead_source")),
            segment=norm_key(row.get("segment")),
            owner_id=norm_text(row.get("owner_id")),
            deal_amount_usd=amount,
            deal_currency=(norm_text(row.get("deal_currency")) or "USD").upper(),
        )
        # The unparsed created_at text tells rows apart, as in staging.
        by_id.setdefault(lead_id, set()).add((lead, usable, created_key))
    # conflicting_lead_rows: a lead_id with different rows is left out whole.
    accepted = {}
    for lead_id, variants in by_id.items():
        if len(variants) == 1:
            lead, usable, _ = next(iter(variants))
            if usable:
                accepted[lead_id] = lead
    return accepted


def load_events(
    rows: Iterable[Row],
    stage_keys: set[str],
    leads: dict[str, Lead],
    input_format: str | None = None,
    future_cutoff: dt.datetime | None = None,
    zone: str = "UTC",
) -> tuple[list[Event], dt.datetime | None]:
    """Normalised, de-duplicated accepted events, plus their latest entered_at.
    Quarantined (left out): no lead_id, an unparseable timestamp or one after
    future_cutoff, an unknown stage, a lead that is not an accepted lead, a
    change dated before the lead was created."""
    events: set[Event] = set()
    latest: dt.datetime | None = None
    for row in rows:
        try:
            entered_at = parse_timestamp(row.get("entered_at"), input_format, zone)
        except ValueError:
            continue
        lead_id = norm_text(row.get("lead_id"))
        stage_key = norm_key(row.get("stage_key"))
        if entered_at is None or lead_id is None or stage_key not in stage_keys:
            continue
        if future_cutoff is not None and entered_at > future_cutoff:
            continue  # in_the_future
        lead = leads.get(lead_id)
        if lead is None or (lead.created_at is not None and entered_at < lead.created_at):
            continue
        latest = entered_at if latest is None else max(latest, entered_at)
        events.add(Event(lead_id, stage_key, entered_at))  # §2 exact duplicates once
    return list(events), latest


# ---------------------------------------------------------------------------
# §2 Stage visits
# ---------------------------------------------------------------------------


def stage_rank(stage_key: str, stages: dict[str, Stage]) -> tuple:
    """Tie order at equal entered_at: by stage_order, lost stages last, then stage_key."""
    stage = stages.get(stage_key)
    is_lost = stage is not None and stage.type == "lost"
    order = stage.order if stage is not None else None
    return (is_lost, order is None, order if order is not None else 0, stage_key)


def exit_type(current: str, nxt: str | None, stages: dict[str, Stage]) -> str | None:
    """§2: reopened, lost, advanced, regressed, open — the first rule that applies."""
    if nxt is None:
        return "open"
    cur_stage, next_stage = stages.get(current), stages.get(nxt)
    cur_lost = cur_stage is not None and cur_stage.type == "lost"
    next_lost = next_stage is not None and next_stage.type == "lost"
    if cur_lost and not next_lost:
        return "reopened"
    if next_lost:
        return "lost"
    cur_order = cur_stage.order if cur_stage is not None else None
    next_order = next_stage.order if next_stage is not None else None
    if cur_order is None or next_order is None:
        return None
    if next_stage.type in ("open", "won") and next_order > cur_order:  # type: ignore[union-attr]
        return "advanced"
    if next_order < cur_order:
        return "regressed"
    return None


def build_visits(
    events: list[Event], stages: dict[str, Stage], as_of_at: dt.datetime
) -> dict[str, list[Visit]]:
    """Group each lead's ordered events into runs of the same stage (visits)."""
    by_lead: dict[str, list[Event]] = {}
    for event in events:
        if event.entered_at < as_of_at:  # §1: only events before as_of_at exist
            by_lead.setdefault(event.lead_id, []).append(event)

    visits_by_lead: dict[str, list[Visit]] = {}
    for lead_id, lead_events in by_lead.items():
        lead_events.sort(key=lambda e: (e.entered_at, stage_rank(e.stage_key, stages)))
        visits: list[Visit] = []
        for event in lead_events:
            if visits and visits[-1].stage_key == event.stage_key:
                continue  # same-stage re-save: same visit
            visits.append(Visit(lead_id, event.stage_key, len(visits) + 1, event.entered_at))
        for current, nxt in zip(visits, [*visits[1:], None], strict=False):
            current.exit_type = exit_type(current.stage_key, nxt.stage_key if nxt else None, stages)
            if nxt is not None:
                current.exited_at = nxt.entered_at
                current.next_stage_key = nxt.stage_key
                current.dwell_days = fractional_days(nxt.entered_at - current.entered_at)
            else:
                current.days_in_stage = fractional_days(as_of_at - current.entered_at)
        visits_by_lead[lead_id] = visits
    return visits_by_lead


# ---------------------------------------------------------------------------
# §3 Expected days and §4 conversion
# ---------------------------------------------------------------------------


def open_stages(stages: dict[str, Stage]) -> list[Stage]:
    ordered = [s for s in stages.values() if s.type == "open"]
    return sorted(ordered, key=lambda s: (s.order is None, s.order or 0, s.key))


def expected_days(
    stage: Stage, all_visits: list[Visit], factor: float, basis: str, km_median: float | None
) -> tuple[float | None, float | None]:
    """§3: (avg_days_to_advance, expected_days_to_convert); the factor
    multiplies the average, or the Kaplan-Meier median when basis is km_median."""
    dwells = [
        v.dwell_days
        for v in all_visits
        if v.stage_key == stage.key and v.exit_type == "advanced" and v.dwell_days is not None
    ]
    avg = sum(dwells) / len(dwells) if dwells else None
    multiplied = km_median if basis == "km_median" else avg
    return avg, factor * multiplied if multiplied is not None else stage.default_expected_days


def kaplan_meier(stage: Stage, all_visits: list[Visit], as_of_at: dt.datetime) -> dict:
    """§12: the stage's visits as (time, advanced) observations, the survival
    curve over the distinct event times, its median and 75th percentile."""
    observed = []
    for v in all_visits:
        if v.stage_key == stage.key:
            end = v.exited_at if v.exited_at is not None else as_of_at
            observed.append((_microseconds(end - v.entered_at), v.exit_type == "advanced"))
    visits_at = Counter(time for time, _ in observed)
    events_at = Counter(time for time, advanced in observed if advanced)
    at_risk = len(observed)
    not_advanced = 1.0
    median = p75 = None
    for time in sorted(visits_at):
        if events_at[time]:
            not_advanced *= 1 - events_at[time] / at_risk
            if median is None and not_advanced <= 0.5 + 1e-9:
                median = time / 86_400_000_000
            if p75 is None and not_advanced <= 0.25 + 1e-9:
                p75 = time / 86_400_000_000
        at_risk -= visits_at[time]  # censored at an event's time: at risk at it
    advanced = sum(events_at.values())
    return {
        "visits_observed": len(observed),
        "visits_advanced": advanced,
        "visits_censored": len(observed) - advanced,
        "visits_still_open": sum(
            1 for v in all_visits if v.stage_key == stage.key and v.exit_type == "open"
        ),
        "km_median_days_to_advance": median,
        "km_p75_days_to_advance": p75,
    }


def first_step_up(visits: list[Visit], stage: Stage, stages: dict[str, Stage]) -> str | None:
    """§4/§5: the stage of the first visit, after the first visit of S, of an
    open/won stage with a higher order (the lead advanced into it), or None."""
    if stage.order is None:
        return None
    first = next(i for i, v in enumerate(visits) if v.stage_key == stage.key)
    for later in visits[first + 1 :]:
        other = stages.get(later.stage_key)
        if (
            other is not None
            and other.type in ("open", "won")
            and other.order is not None
            and other.order > stage.order
        ):
            return other.key
    return None


def convert_stage(
    stage: Stage,
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    factor: float,
    basis: str,
    as_of_at: dt.datetime,
) -> StageConversion:
    all_visits = [v for visits in visits_by_lead.values() for v in visits]
    result = StageConversion(stage)
    result.time_to_advance = kaplan_meier(stage, all_visits, as_of_at)
    result.avg_days_to_advance, result.expected_days_to_convert = expected_days(
        stage, all_visits, factor, basis, result.time_to_advance["km_median_days_to_advance"]
    )
    for visits in visits_by_lead.values():
        outcome = cohort_outcome(visits, stage, stages, result.expected_days_to_convert)
        if outcome is None:
            continue  # not in the cohort
        advanced, completed, old = outcome
        current = visits[-1]
        if advanced:
            result.advanced_to[first_step_up(visits, stage, stages)] += 1
        result.leads_entered += 1
        result.leads_advanced += advanced
        result.leads_completed += completed
        result.leads_old += old
        result.leads_in_window += not completed and not old
        if old:
            result.old_visits.append(current)
    return result


def cohort_outcome(
    visits: list[Visit], stage: Stage, stages: dict[str, Stage], expected: float | None
) -> tuple[bool, bool, bool] | None:
    """§4 for one lead: (advanced, completed, old), None when not in S's cohort."""
    if not any(v.stage_key == stage.key for v in visits):
        return None
    advanced = first_step_up(visits, stage, stages) is not None
    current = visits[-1]  # latest visit = current stage
    completed = advanced or current.stage_key != stage.key
    old = (
        not completed
        and expected is not None
        and current.days_in_stage is not None
        and current.days_in_stage > expected  # strictly
    )
    return advanced, completed, old


def diagnose(
    conversion_rate: float | None,
    benchmark: float | None,
    old_lead_share: float | None,
    bandwidth_threshold: float,
    strict_threshold: float,
) -> str | None:
    """§6."""
    if conversion_rate is None or benchmark is None:
        return None
    if conversion_rate >= benchmark:
        return "healthy"
    if old_lead_share is not None and old_lead_share > bandwidth_threshold:
        return "bandwidth"
    if old_lead_share is not None and old_lead_share < strict_threshold:
        return "standards_too_strict"
    return "below_benchmark"


def next_stage_of(stage: Stage, stages: dict[str, Stage]) -> str | None:
    """The open-or-won stage with the smallest stage_order greater than this one's."""
    if stage.order is None:
        return None
    later = [
        s
        for s in stages.values()
        if s.type in ("open", "won") and s.order is not None and s.order > stage.order
    ]
    if not later:
        return None
    return min(later, key=lambda s: (s.order, s.key)).key


# ---------------------------------------------------------------------------
# §5 Working backwards from revenue
# ---------------------------------------------------------------------------


def ceil_rounded(value: float) -> int:
    """ceil(round(x, 9)) — rounding first drops floating-point noise."""
    return math.ceil(round(value, 9))


def cumulative_rate(stage: Stage, conversions: dict[str, StageConversion]) -> float | None:
    """Product of conversion_rate(k) over open stages k with order >= order(S)."""
    if stage.order is None:
        return None
    product = 1.0
    for conv in conversions.values():
        k = conv.stage
        if k.order is not None and k.order >= stage.order:
            rate = conv.conversion_rate
            if rate is None:
                return None
            product *= rate
    return product


def win_probabilities(
    conversions: dict[str, StageConversion], stages: dict[str, Stage]
) -> dict[str, float | None]:
    """§5 win_probability(S) = Σ_T advanced_to(S, T) / (CQL(S) + OQL(S)) x
    win_probability(T), win_probability(won) = 1, from the highest open stage
    down, T in descending stage_order. None when S decided no lead or a T it
    flows into has None."""
    known: dict[str, float | None] = {k: 1.0 for k, s in stages.items() if s.type == "won"}
    ordered = sorted(
        (c for c in conversions.values() if c.stage.order is not None),
        key=lambda c: c.stage.order,
        reverse=True,
    )
    for conv in ordered:
        denominator = conv.leads_completed + conv.leads_old
        probability: float | None = None
        if denominator:
            probability = 0.0
            for to_key in sorted(conv.advanced_to, key=lambda k: stages[k].order, reverse=True):
                onward = known.get(to_key)
                if onward is None:
                    probability = None
                    break
                probability += conv.advanced_to[to_key] / denominator * onward
        known[conv.stage.key] = probability
    return {key: known.get(key) for key in conversions}


def stage_flows(
    as_of: dt.date, conversions: dict[str, StageConversion], stages: dict[str, Stage]
) -> list[dict]:
    """fct_stage_flow: one row per open S and T with advanced_to(S, T) > 0."""
    rows = []
    for conv in conversions.values():
        denominator = conv.leads_completed + conv.leads_old
        for to_key, count in sorted(conv.advanced_to.items()):
            rows.append(
                {
                    "as_of_date": as_of,
                    "stage_key": conv.stage.key,
                    "to_stage_key": to_key,
                    "leads_advanced_to": count,
                    "share_of_advanced": ratio(count, conv.leads_advanced),
                    "flow_rate": ratio(count, denominator),
                }
            )
    return rows


def observed_avg_deal(
    visits_by_lead: dict[str, list[Visit]],
    leads: dict[str, Lead],
    stages: dict[str, Stage],
) -> float | None:
    """Mean deal_amount_usd of leads whose current stage is won (non-empty amounts)."""
    amounts = []
    for lead_id, visits in visits_by_lead.items():
        stage = stages.get(visits[-1].stage_key)
        lead = leads.get(lead_id)
        if stage is not None and stage.type == "won" and lead and lead.deal_amount_usd is not None:
            amounts.append(lead.deal_amount_usd)
    return sum(amounts) / len(amounts) if amounts else None


def rate_on(rates: list[Row], currency: str, day: dt.date, reporting_currency: str) -> float | None:
    """§15: units of the reporting currency per unit of currency on day: 1
    for the reporting currency, else the rate of the row with the latest
    valid_from on or before day, else none."""
    if currency == reporting_currency:
        return 1.0
    valid = [
        (parse_date(row["valid_from"]), float(row["rate_to_reporting"]))
        for row in rates
        if (norm_text(row["currency"]) or "").upper() == currency
        and parse_date(row["valid_from"]) <= day
    ]
    return max(valid)[1] if valid else None


def amounts_in_reporting_currency(
    leads: dict[str, Lead],
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    as_of: dt.date,
    zone: zoneinfo.ZoneInfo,
    reporting_currency: str,
    rates: list[Row],
) -> dict[str, Lead]:
    """§15: each lead with its amount converted to the reporting currency
    at the rate of its won date (the business day it first entered a won
    stage; a lead now won) or of the as-of date (every other lead); empty
    without a rate."""
    converted = {}
    for lead_id, lead in leads.items():
        visits = visits_by_lead.get(lead_id) or []
        day = as_of
        if visits and stages[visits[-1].stage_key].type == "won":
            first_won = next(v for v in visits if stages[v.stage_key].type == "won")
            day = local_time(first_won.entered_at, zone).date()
        amount = lead.deal_amount_usd
        rate = rate_on(rates, lead.deal_currency, day, reporting_currency)
        if amount is not None and lead.deal_currency != reporting_currency:
            amount = round(amount * rate, 6) if rate is not None else None
        converted[lead_id] = replace(lead, deal_amount_usd=amount)
    return converted


# ---------------------------------------------------------------------------
# Marts
# ---------------------------------------------------------------------------


def _lead_attrs(lead: Lead | None) -> dict:
    return {
        "owner_id": lead.owner_id if lead else None,
        "lead_source": lead.lead_source if lead else None,
        "segment": lead.segment if lead else None,
    }


DEFAULT_PIPELINE = ("default", "Sales pipeline")
# An as-of date after every change: a lead's visits then start at its
# earliest usable change.
EVERY_CHANGE_AS_OF = "9999-12-30"


def pipelines_of(pipeline_stages: list[Row]) -> dict[str, tuple[str, list[Row]]]:
    """§1 several pipelines: each pipeline id with its name and stage rows;
    a stage row without pipeline_id is the default pipeline's. A pipeline's
    name is the one its rows give, else its id (the default's: "Sales
    pipeline")."""
    rows_of: dict[str, list[Row]] = {}
    for row in pipeline_stages:
        rows_of.setdefault(norm_text(row.get("pipeline_id")) or DEFAULT_PIPELINE[0], []).append(row)
    pipelines = {}
    for pipeline_id, rows in rows_of.items():
        names = [norm_text(row.get("pipeline_name")) for row in rows]
        given = next((name for name in names if name), None)
        fallback = DEFAULT_PIPELINE[1] if pipeline_id == DEFAULT_PIPELINE[0] else pipeline_id
        pipelines[pipeline_id] = (given or fallback, rows)
    return pipelines


def targets_of(revenue_targets: list[Row], pipeline_id: str, only_pipeline: bool) -> list[Row]:
    """A pipeline's revenue targets: its own rows, and with one pipeline the
    overall rows (no pipeline_id) of the months it has no own row for; an
    overall target is not split across several pipelines."""
    own = [row for row in revenue_targets if norm_text(row.get("pipeline_id")) == pipeline_id]
    own_months = {norm_text(row.get("target_month")) for row in own}
    overall = [
        row
        for row in revenue_targets
        if norm_text(row.get("pipeline_id")) is None
        and only_pipeline
        and norm_text(row.get("target_month")) not in own_months
    ]
    return own + overall


def rows_of_leads(
    raw_leads: list[Row], raw_transitions: list[Row], lead_ids: set[str]
) -> tuple[list[Row], list[Row]]:
    """The raw lead rows and stage changes of the given leads."""
    return (
        [row for row in raw_leads if norm_text(row.get("lead_id")) in lead_ids],
        [row for row in raw_transitions if norm_text(row.get("lead_id")) in lead_ids],
    )


def compute_marts(
    raw_leads: list[Row],
    raw_transitions: list[Row],
    pipeline_stages: list[Row],
    stage_benchmarks: list[Row],
    revenue_targets: list[Row],
    as_of_date: str | None = None,
    history_start: str | None = None,
    **options,
) -> dict[str, list[dict]]:
    """The published marts of a project as of a date, and §13's change
    since conversion_change_days earlier: the earlier day's stage
    conversion is what a build as of that day gives, when the day is in the
    history (history_start, default 364 days before the as-of date, through
    the as-of date); before it, the earlier values are None. §17's forecast
    and backtest read a build dated each forecast date of the history."""
    inputs = (raw_leads, raw_transitions, pipeline_stages, stage_benchmarks, revenue_targets)
    marts = project_marts(*inputs, as_of_date, **options)
    now = marts["fct_stage_conversion"]
    if not now:
        return marts
    as_of = now[0]["as_of_date"]
    days = options.get("conversion_change_days", 28)
    compared = as_of - dt.timedelta(days=days)
    first_day = history_first_day(
        as_of, history_start, options.get("movement_windows_days", DEFAULT_MOVEMENT_WINDOWS)
    )
    # Only the earlier day's stage conversion is read: no movement for it.
    earlier_options = {**options, "movement_windows_days": ()}
    earlier = (
        project_marts(*inputs, compared.isoformat(), **earlier_options)["fct_stage_conversion"]
        if compared >= first_day
        else []
    )
    marts.update(revenue_forecast_marts(inputs, marts, first_day, options))
    pipeline_of = {row["stage_key"]: row for row in now}
    marts["rpt_stage_conversion_change"] = [
        {
            column: {**row, **{key: pipeline_of[row["stage_key"]][key] for key in PIPELINE_KEYS}}[
                column
            ]
            for column in MART_COLUMNS["rpt_stage_conversion_change"]
        }
        for row in conversion_change(now, {compared: earlier}, days)
    ]
    return marts


def history_first_day(
    as_of: dt.date, history_start: str | dt.date | None, windows: Iterable[int]
) -> dt.date:
    """The history's first day (§7, §13, §16): history_start (default 364
    days before the as-of date), or as_of_date - the longest movement window
    when that is earlier, so that the history holds every window's
    from_date."""
    first_day = parse_date(history_start) or as_of - dt.timedelta(days=364)
    days = movement_windows(windows)
    return min(first_day, as_of - dt.timedelta(days=max(days))) if days else first_day


def stage_conversion_history(
    raw_leads: list[Row],
    raw_transitions: list[Row],
    pipeline_stages: list[Row],
    stage_benchmarks: list[Row],
    days: Iterable[dt.date],
    **options,
) -> list[dict]:
    """fct_stage_conversion_daily's rows for the given days: what a build
    dated each day gives (fct_stage_conversion), sorted by day."""
    rows: list[dict] = []
    options = {**options, "movement_windows_days": ()}  # not read: no movement
    for day in sorted(days):
        rows += project_marts(
            raw_leads,
            raw_transitions,
            pipeline_stages,
            stage_benchmarks,
            [],
            day.isoformat(),
            **options,
        )["fct_stage_conversion"]
    return rows


PIPELINE_KEYS = ("pipeline_id", "pipeline_name")


def project_marts(
    raw_leads: list[Row],
    raw_transitions: list[Row],
    pipeline_stages: list[Row],
    stage_benchmarks: list[Row],
    revenue_targets: list[Row],
    as_of_date: str | None = None,
    **options,
) -> dict[str, list[dict]]:
    """The published marts of a project, pipeline by pipeline (§1): each
    pipeline's stages with its leads, computed on their own and
    put together with the pipeline's id and name. A lead without a stage
    change as of the as-of date is in no pipeline when there are several.
    A lead is in the pipeline of its earliest usable change; its changes
    into another pipeline's stages do not count (stage_of_another_pipeline).
    The as-of date is the whole project's: by default the latest kept
    change of any pipeline."""
    pipelines = pipelines_of(pipeline_stages)
    only_pipeline = len(pipelines) == 1
    members: dict[str, set[str]] = {}
    if not only_pipeline:
        # A lead is in the pipeline of its earliest usable change (ties: the
        # pipeline whose id sorts first), whatever the as-of date; its
        # changes into another pipeline's stages are stage_of_another_pipeline.
        earliest: dict[str, tuple] = {}
        for pipeline_id, (_, stage_rows) in pipelines.items():
            keys = {norm_key(row.get("stage_key")) for row in stage_rows}
            changed = {
                norm_text(row.get("lead_id"))
                for row in raw_transitions
                if norm_key(row.get("stage_key")) in keys
            }
            candidates = compute_pipeline_marts(
                *rows_of_leads(raw_leads, raw_transitions, changed),
                stage_rows,
                stage_benchmarks,
                [],
                EVERY_CHANGE_AS_OF,
                **options,
            )
            for visit in candidates["fct_lead_stage_visits"]:
                if visit["visit_number"] == 1:
                    start = (visit["entered_at"], pipeline_id)
                    earliest[visit["lead_id"]] = min(earliest.get(visit["lead_id"], start), start)
        for lead_id, (_, pipeline_id) in earliest.items():
            members.setdefault(pipeline_id, set()).add(lead_id)

    def pipeline_input(pipeline_id: str) -> tuple[list[Row], list[Row]]:
        if only_pipeline:
            return raw_leads, raw_transitions
        return rows_of_leads(raw_leads, raw_transitions, members.get(pipeline_id, set()))

    if as_of_date is None and not only_pipeline:
        # The project's latest kept change: the latest of each pipeline's.
        dates = [
            compute_pipeline_marts(
                *pipeline_input(pipeline_id), stage_rows, stage_benchmarks, [], None, **options
            )["as_of_date"]
            for pipeline_id, (_, stage_rows) in pipelines.items()
        ]
        as_of_date = max((day for day in dates if day), default=None)
    marts: dict[str, list[dict]] = {name: [] for name in MART_COLUMNS}
    marts["leads_without_exchange_rate"] = []
    for pipeline_id, (name, stage_rows) in sorted(pipelines.items()):
        targets = targets_of(revenue_targets, pipeline_id, only_pipeline)
        leads, transitions = pipeline_input(pipeline_id)
        pipeline_marts = compute_pipeline_marts(
            leads, transitions, stage_rows, stage_benchmarks, targets, as_of_date, **options
        )
        for mart in MART_COLUMNS:
            for row in pipeline_marts[mart]:
                full = {**row, "pipeline_id": pipeline_id, "pipeline_name": name}
                marts[mart].append({column: full[column] for column in MART_COLUMNS[mart]})
        marts["leads_without_exchange_rate"] += pipeline_marts["leads_without_exchange_rate"]
    marts["leads_without_exchange_rate"].sort()
    return marts


def compute_pipeline_marts(
    raw_leads: list[Row],
    raw_transitions: list[Row],
    pipeline_stages: list[Row],
    stage_benchmarks: list[Row],
    revenue_targets: list[Row],
    as_of_date: str | None = None,
    expected_days_factor: float = 2.0,
    expected_days_basis: str = "average",
    diagnosis_bandwidth_threshold: float = 0.25,
    diagnosis_strict_threshold: float = 0.05,
    input_timestamp_format: str | None = None,
    history: dict[dt.date, list[dict]] | None = None,
    conversion_change_days: int = 28,
    business_time_zone: str = "UTC",
    future_tolerance_days: int = 1,
    build_started_at: dt.datetime | None = None,
    reporting_currency: str = "USD",
    exchange_rates: list[Row] | None = None,
    movement_windows_days: Iterable[int] = DEFAULT_MOVEMENT_WINDOWS,
    likely_dead_multiple: float = 3.0,
) -> dict[str, list[dict]]:
    """Compute the published marts of spec §7 to §16 for one pipeline's
    stages and leads (compute_marts splits a project; it also fills
    rpt_stage_conversion_change's earlier values, None here).
    build_started_at (UTC, default now) plus future_tolerance_days is the
    latest date a row may have (later: quarantined as in_the_future)."""
    started = build_started_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cutoff = started + dt.timedelta(days=future_tolerance_days)
    stages = load_stages(pipeline_stages)
    benchmarks = load_benchmarks(stage_benchmarks)
    leads = load_leads(raw_leads, input_timestamp_format, cutoff, business_time_zone)
    events, latest = load_events(
        raw_transitions, set(stages), leads, input_timestamp_format, cutoff, business_time_zone
    )

    # §1 as_of_date: default = the business time zone's date of the latest
    # entered_at; as_of_at = the next local midnight, as a naive UTC time.
    zone = zoneinfo.ZoneInfo(business_time_zone)
    as_of = parse_date(as_of_date)
    if as_of is None:
        if latest is None:
            return {name: [] for name in MART_COLUMNS} | {
                "as_of_date": None,
                "leads_without_exchange_rate": [],
            }
        as_of = local_time(latest, zone).date()
    local_midnight = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    as_of_at = local_midnight.astimezone(dt.UTC).replace(tzinfo=None)

    visits_by_lead = build_visits(events, stages, as_of_at)
    # §15: the amounts every mart sums, in the reporting currency.
    reporting_currency = reporting_currency.upper()
    in_reporting = amounts_in_reporting_currency(
        leads, visits_by_lead, stages, as_of, zone, reporting_currency, exchange_rates or []
    )

    def lead_columns(lead_id: str) -> dict:
        lead = leads.get(lead_id)
        return {
            **_lead_attrs(lead),
            "deal_amount": lead.deal_amount_usd if lead else None,
            "deal_currency": lead.deal_currency if lead else None,
            "deal_amount_reporting": in_reporting[lead_id].deal_amount_usd if lead else None,
        }

    # §3/§4 per open stage
    conversions: dict[str, StageConversion] = {
        s.key: convert_stage(
            s, visits_by_lead, stages, expected_days_factor, expected_days_basis, as_of_at
        )
        for s in open_stages(stages)
    }
    for conv in conversions.values():
        for visit in conv.old_visits:
            visit.is_old = True

    # fct_lead_stage_visits
    visit_rows = []
    for lead_id in sorted(visits_by_lead):
        attrs = lead_columns(lead_id)
        for v in visits_by_lead[lead_id]:
            visit_rows.append(
                {
                    "lead_id": v.lead_id,
                    "stage_key": v.stage_key,
                    "visit_number": v.visit_number,
                    "entered_at": v.entered_at,
                    "exited_at": v.exited_at,
                    "next_stage_key": v.next_stage_key,
                    "exit_type": v.exit_type,
                    "dwell_days": v.dwell_days,
                    "days_in_stage": v.days_in_stage,
                    "is_old": v.is_old,
                    **attrs,
                }
            )

    # fct_stage_conversion (§4, §6)
    conversion_rows = []
    for conv in conversions.values():
        stage = conv.stage
        rate = conv.conversion_rate
        benchmark = benchmarks.get(stage.key)
        conversion_rows.append(
            {
                "as_of_date": as_of,
                "stage_key": stage.key,
                "stage_order": stage.order,
                "next_stage_key": next_stage_of(stage, stages),
                "leads_entered": conv.leads_entered,
                "leads_advanced": conv.leads_advanced,
                "leads_completed": conv.leads_completed,
                "leads_old": conv.leads_old,
                "leads_in_window": conv.leads_in_window,
                "conversion_rate": rate,
                "avg_days_to_advance": conv.avg_days_to_advance,
                "expected_days_to_convert": conv.expected_days_to_convert,
                "old_lead_share": conv.old_lead_share,
                "benchmark_conversion_rate": benchmark,
                "benchmark_gap": rate - benchmark
                if rate is not None and benchmark is not None
                else None,
                "diagnosis": diagnose(
                    rate,
                    benchmark,
                    conv.old_lead_share,
                    diagnosis_bandwidth_threshold,
                    diagnosis_strict_threshold,
                ),
            }
        )

    # fct_pipeline_plan (§5)
    current_counts: dict[str, int] = {}
    for visits in visits_by_lead.values():
        key = visits[-1].stage_key
        current_counts[key] = current_counts.get(key, 0) + 1
    observed_avg = observed_avg_deal(visits_by_lead, in_reporting, stages)
    chances = win_probabilities(conversions, stages)

    plan_rows = []
    for target in revenue_targets:
        month = parse_date(target.get("target_month"))
        revenue = to_float(target.get("revenue_target_usd"))
        avg_deal = to_float(target.get("avg_deal_size_usd"))
        if avg_deal is None:
            avg_deal = observed_avg
        deals = (
            ceil_rounded(revenue / avg_deal)
            if revenue is not None and avg_deal not in (None, 0)
            else None
        )
        for conv in conversions.values():
            stage = conv.stage
            cumulative = cumulative_rate(stage, conversions)
            chance = chances[stage.key]
            leads_needed = (
                ceil_rounded(deals / chance)
                if deals is not None and chance not in (None, 0)
                else None
            )
            in_stage = current_counts.get(stage.key, 0)
            plan_rows.append(
                {
                    "target_month": month,
                    "stage_key": stage.key,
                    "stage_order": stage.order,
                    "revenue_target_usd": revenue,
                    "avg_deal_size_usd": avg_deal,
                    "deals_needed": deals,
                    "cumulative_conversion_rate": cumulative,
                    "win_probability": chance,
                    "leads_needed": leads_needed,
                    "leads_in_stage": in_stage,
                    "lead_gap": leads_needed - in_stage if leads_needed is not None else None,
                }
            )

    # rpt_old_leads (§4); likely dead: overdue by strictly more than
    # likely_dead_multiple x the stage's expected days (revision of 2026-12-05).
    if not likely_dead_multiple > 0:
        raise ValueError(f"likely_dead_multiple must be > 0, got {likely_dead_multiple!r}")
    old_rows = []
    for conv in conversions.values():
        expected = conv.expected_days_to_convert
        for v in conv.old_visits:
            overdue = v.days_in_stage - expected  # type: ignore[operator]
            old_rows.append(
                {
                    "as_of_date": as_of,
                    "lead_id": v.lead_id,
                    "stage_key": v.stage_key,
                    "entered_at": v.entered_at,
                    "days_in_stage": v.days_in_stage,
                    "expected_days_to_convert": expected,
                    "days_overdue": overdue,
                    "is_likely_dead": overdue > likely_dead_multiple * expected,  # type: ignore[operator]
                    **lead_columns(v.lead_id),
                }
            )

    # §16: the old visits of a stage as of an earlier instant (the end of a
    # movement window's from_date), as a build dated that day computes them:
    # the visits and the stage's conversion (thresholds included) as of it.
    visits_as_of: dict[dt.datetime, dict[str, list[Visit]]] = {}
    old_as_of: dict[tuple[dt.datetime, str], set[tuple[str, int]]] = {}

    def old_keys_as_of(instant: dt.datetime, stage: Stage) -> set[tuple[str, int]]:
        if (instant, stage.key) not in old_as_of:
            if instant not in visits_as_of:
                visits_as_of[instant] = build_visits(events, stages, instant)
            earlier = convert_stage(
                stage,
                visits_as_of[instant],
                stages,
                expected_days_factor,
                expected_days_basis,
                instant,
            )
            old_as_of[instant, stage.key] = {
                (v.lead_id, v.visit_number) for v in earlier.old_visits
            }
        return old_as_of[instant, stage.key]

    def order_key(row: dict) -> tuple:
        order = row["stage_order"]
        return (order is None, order or 0, row["stage_key"])

    conversion_rows.sort(key=order_key)
    plan_rows.sort(
        key=lambda r: (r["target_month"] is None, r["target_month"] or dt.date.min, *order_key(r))
    )
    old_rows.sort(key=lambda r: (r["lead_id"], r["stage_key"]))

    existing = {
        lead_id: lead
        for lead_id, lead in in_reporting.items()
        if lead.created_at is None or lead.created_at < as_of_at
    }
    win_rate_rows = win_rates(as_of, existing, visits_by_lead, stages)
    overall = win_rate_rows[0]
    marts = {
        "fct_lead_stage_visits": visit_rows,
        "fct_stage_conversion": conversion_rows,
        "fct_pipeline_plan": plan_rows,
        "rpt_old_leads": old_rows,
        "fct_stage_conversion_by_dimension": conversion_by_dimension(
            as_of, existing, visits_by_lead, stages, conversions
        ),
        "fct_win_rates": win_rate_rows,
        "fct_pipeline_value": pipeline_value(
            as_of, existing, visits_by_lead, conversions, chances, revenue_targets, overall
        ),
        "fct_stage_flow": stage_flows(as_of, conversions, stages),
        "fct_cohort_conversion": cohort_conversion(as_of, existing, visits_by_lead, stages, zone),
        "rpt_stage_conversion_change": conversion_change(
            conversion_rows, {}, conversion_change_days
        ),
        "fct_pipeline_movement": pipeline_movement(
            as_of,
            as_of_at,
            movement_windows_days,
            visits_by_lead,
            stages,
            business_time_zone,
            {lead_id: _lead_attrs(leads.get(lead_id))["owner_id"] for lead_id in visits_by_lead},
            {lead_id: lead_columns(lead_id)["deal_amount_reporting"] for lead_id in visits_by_lead},
            old_keys_as_of,
        ),
        "fct_stage_time_to_advance": [
            {
                "as_of_date": as_of,
                "stage_key": conv.stage.key,
                "stage_order": conv.stage.order,
                **{k: v for k, v in conv.time_to_advance.items() if not k.startswith("km_")},
                "avg_days_to_advance": conv.avg_days_to_advance,
                "km_median_days_to_advance": conv.time_to_advance["km_median_days_to_advance"],
                "km_p75_days_to_advance": conv.time_to_advance["km_p75_days_to_advance"],
                "expected_days_basis": expected_days_basis,
                "expected_days_to_convert": conv.expected_days_to_convert,
            }
            for conv in sorted(
                conversions.values(),
                key=lambda c: order_key({"stage_order": c.stage.order, "stage_key": c.stage.key}),
            )
        ],
        # §17 needs builds dated other days: compute_marts fills these.
        **{name: [] for name in FORECAST_MARTS},
    }
    # The marts with amounts name their currency.
    for name in (
        "fct_win_rates",
        "fct_pipeline_value",
        "fct_pipeline_plan",
        "fct_pipeline_movement",
    ):
        for row in marts[name]:
            row["reporting_currency"] = reporting_currency
    # Not a mart: the leads rpt_data_quality notes no_exchange_rate (§15).
    marts["as_of_date"] = as_of.isoformat()
    marts["leads_without_exchange_rate"] = sorted(
        lead_id
        for lead_id, lead in existing.items()
        if lead.deal_amount_usd is None and leads[lead_id].deal_amount_usd is not None
    )
    return marts


# ---------------------------------------------------------------------------
# The sales leader's next questions (docs/metrics.md sections 8 to 11)
# ---------------------------------------------------------------------------


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def dimension_values(existing: dict[str, Lead]) -> dict[str, dict[str, str | None]]:
    """dimension -> lead_id -> the lead's value (None when it has none)."""
    return {
        dimension: {lead_id: _lead_attrs(lead)[dimension] for lead_id, lead in existing.items()}
        for dimension in DIMENSIONS
    }


def conversion_by_dimension(
    as_of: dt.date,
    existing: dict[str, Lead],
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    conversions: dict[str, StageConversion],
) -> list[dict]:
    """§8: §4's counts per dimension value, old by the stage's overall threshold."""
    rows = []
    for dimension, value_of in dimension_values(existing).items():
        for value in set(value_of.values()):
            for conv in conversions.values():
                counts = {"entered": 0, "advanced": 0, "completed": 0, "old": 0}
                for lead_id, visits in visits_by_lead.items():
                    if lead_id not in value_of or value_of[lead_id] != value:
                        continue
                    outcome = cohort_outcome(
                        visits, conv.stage, stages, conv.expected_days_to_convert
                    )
                    if outcome is None:
                        continue
                    advanced, completed, old = outcome
                    counts["entered"] += 1
                    counts["advanced"] += advanced
                    counts["completed"] += completed
                    counts["old"] += old
                decided = counts["completed"] + counts["old"]
                rows.append(
                    {
                        "as_of_date": as_of,
                        "dimension": dimension,
                        "dimension_value": value,
                        "stage_key": conv.stage.key,
                        "stage_order": conv.stage.order,
                        "leads_entered": counts["entered"],
                        "leads_advanced": counts["advanced"],
                        "leads_completed": counts["completed"],
                        "leads_old": counts["old"],
                        "leads_in_window": counts["entered"] - decided,
                        "conversion_rate": ratio(counts["advanced"], decided),
                        "old_lead_share": ratio(counts["old"], decided),
                        "expected_days_to_convert": conv.expected_days_to_convert,
                    }
                )
    return rows


def _microseconds(delta: dt.timedelta) -> int:
    return delta // dt.timedelta(microseconds=1)


def win_rates(
    as_of: dt.date,
    existing: dict[str, Lead],
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
) -> list[dict]:
    """§9: the overall row first, then one per dimension value."""
    scopes: dict[tuple[str, str | None], list[str]] = {("overall", None): list(existing)}
    for dimension, value_of in dimension_values(existing).items():
        for lead_id, value in value_of.items():
            scopes.setdefault((dimension, value), []).append(lead_id)
    rows = []
    for (dimension, value), lead_ids in scopes.items():
        won = lost = 0
        amounts: list[float] = []
        cycles: list[int] = []
        for lead_id in lead_ids:
            visits = visits_by_lead.get(lead_id)
            if not visits:
                continue
            current_type = stages[visits[-1].stage_key].type
            if current_type == "lost":
                lost += 1
            elif current_type == "won":
                won += 1
                amount = existing[lead_id].deal_amount_usd
                if amount is not None:
                    amounts.append(amount)
                first_won = next(v for v in visits if stages[v.stage_key].type == "won")
                # spec 8: from created_at, else the first accepted stage change
                start = existing[lead_id].created_at or visits[0].entered_at
                cycles.append(_microseconds(first_won.entered_at - start))
        day = 86_400_000_000
        rows.append(
            {
                "as_of_date": as_of,
                "dimension": dimension,
                "dimension_value": value,
                "leads_decided": won + lost,
                "leads_won": won,
                "leads_lost": lost,
                "win_rate": ratio(won, won + lost),
                "avg_won_deal_usd": ratio(sum(amounts), len(amounts)),
                "avg_sales_cycle_days": sum(cycles) / len(cycles) / day if cycles else None,
                "median_sales_cycle_days": statistics.median(cycles) / day if cycles else None,
            }
        )
    return rows


def pipeline_value(
    as_of: dt.date,
    existing: dict[str, Lead],
    visits_by_lead: dict[str, list[Visit]],
    conversions: dict[str, StageConversion],
    chances: dict[str, float | None],
    revenue_targets: list[Row],
    overall: dict,
) -> list[dict]:
    """§10: per open stage, then a total row (stage_key None); each stage's
    win probability is the plan's (§5)."""
    months = {}
    for target in revenue_targets:
        month = parse_date(target.get("target_month"))
        if month is not None and month > as_of:
            months[month] = to_float(target.get("revenue_target_usd"))
    target_month = min(months) if months else None
    revenue = months.get(target_month) if target_month else None

    def amount_sum(lead_ids: list[str]) -> float:
        return sum(
            existing[i].deal_amount_usd for i in lead_ids if existing[i].deal_amount_usd is not None
        )

    stage_rows = []
    for conv in conversions.values():
        old_ids = {v.lead_id for v in conv.old_visits}
        in_stage = [
            lead_id
            for lead_id, visits in visits_by_lead.items()
            if visits[-1].stage_key == conv.stage.key and lead_id in existing
        ]
        healthy = [i for i in in_stage if i not in old_ids]
        old = [i for i in in_stage if i in old_ids]
        probability = chances[conv.stage.key]
        pipeline = amount_sum(healthy)
        stage_rows.append(
            {
                "stage_key": conv.stage.key,
                "stage_order": conv.stage.order,
                "leads_open": len(healthy),
                "leads_old": len(old),
                "pipeline_usd": pipeline,
                "old_pipeline_usd": amount_sum(old),
                "win_probability": probability,
                "weighted_pipeline_usd": pipeline * probability
                if probability is not None
                else None,
            }
        )
    rows = list(stage_rows)
    if stage_rows:
        weighted = [r["weighted_pipeline_usd"] for r in stage_rows]
        rows.append(
            {
                "stage_key": None,
                "stage_order": None,
                **{
                    column: sum(r[column] for r in stage_rows)
                    for column in ("leads_open", "leads_old", "pipeline_usd", "old_pipeline_usd")
                },
                "win_probability": None,
                "weighted_pipeline_usd": sum(w for w in weighted if w is not None)
                if any(w is not None for w in weighted)
                else None,
            }
        )
    rate, deal, cycle = (
        overall["win_rate"],
        overall["avg_won_deal_usd"],
        overall["avg_sales_cycle_days"],
    )
    for row in rows:
        row["as_of_date"] = as_of
        row["target_month"] = target_month
        row["revenue_target_usd"] = revenue
        row["coverage_ratio"] = ratio(row["pipeline_usd"], revenue)
        row["weighted_coverage_ratio"] = ratio(row["weighted_pipeline_usd"], revenue)
        row["pipeline_velocity_usd_per_day"] = (
            ratio(row["leads_open"] * rate * deal, cycle)
            if rate is not None and deal is not None
            else None
        )
    # compute_marts adds the pipeline and reporting_currency.
    added = ("reporting_currency", "pipeline_id", "pipeline_name")
    columns = [c for c in MART_COLUMNS["fct_pipeline_value"] if c not in added]
    return [{column: row[column] for column in columns} for row in rows]


def cohort_conversion(
    as_of: dt.date,
    existing: dict[str, Lead],
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    zone: zoneinfo.ZoneInfo,
) -> list[dict]:
    """§11: per creation month (in the business time zone) x open or won stage."""
    by_month: dict[dt.date | None, list[str]] = {}
    for lead_id, lead in existing.items():
        created = local_time(lead.created_at, zone) if lead.created_at else None
        month = created.date().replace(day=1) if created else None
        by_month.setdefault(month, []).append(lead_id)
    funnel = [s for s in stages.values() if s.type in ("open", "won")]
    rows = []
    for month, lead_ids in by_month.items():
        lead_visits = [visits_by_lead.get(i, []) for i in lead_ids]
        won = sum(any(stages[v.stage_key].type == "won" for v in vs) for vs in lead_visits)
        still_open = sum(bool(vs) and stages[vs[-1].stage_key].type == "open" for vs in lead_visits)
        for stage in funnel:
            reached = in_stage = 0
            for visits in lead_visits:
                orders = [
                    stages[v.stage_key].order
                    for v in visits
                    if stages[v.stage_key].type in ("open", "won")
                    and stages[v.stage_key].order is not None
                ]
                visited = any(v.stage_key == stage.key for v in visits)
                past = stage.order is not None and bool(orders) and max(orders) >= stage.order
                reached += visited or past
                in_stage += bool(visits) and visits[-1].stage_key == stage.key
            rows.append(
                {
                    "as_of_date": as_of,
                    "cohort_month": month,
                    "stage_key": stage.key,
                    "stage_order": stage.order,
                    "stage_type": stage.type,
                    "leads_created": len(lead_ids),
                    "leads_reached": reached,
                    "reached_share": reached / len(lead_ids),
                    "leads_in_stage": in_stage,
                    "won_share": won / len(lead_ids),
                    "leads_still_open": still_open,
                }
            )
    return rows


def conversion_change(
    conversion_rows: list[dict], history: dict[dt.date, list[dict]], days: int
) -> list[dict]:
    """§13: each stage now against the history's row `days` earlier."""

    def change(current: float | None, earlier: float | None) -> float | None:
        return current - earlier if current is not None and earlier is not None else None

    rows = []
    for now in conversion_rows:
        compared = now["as_of_date"] - dt.timedelta(days=days)
        then = next(
            (r for r in history.get(compared, []) if r["stage_key"] == now["stage_key"]), None
        )
        pending = now["leads_old"] + now["leads_in_window"]
        earlier_pending = then["leads_old"] + then["leads_in_window"] if then else None
        earlier_rate = then["conversion_rate"] if then else None
        earlier_old = then["leads_old"] if then else None
        rows.append(
            {
                "as_of_date": now["as_of_date"],
                "compared_date": compared,
                "stage_key": now["stage_key"],
                "stage_order": now["stage_order"],
                "earlier_conversion_rate": earlier_rate,
                "conversion_rate": now["conversion_rate"],
                "conversion_rate_change": change(now["conversion_rate"], earlier_rate),
                "earlier_leads_old": earlier_old,
                "leads_old": now["leads_old"],
                "leads_old_change": change(now["leads_old"], earlier_old),
                "earlier_leads_pending": earlier_pending,
                "leads_pending": pending,
                "leads_pending_change": change(pending, earlier_pending),
            }
        )
    return rows


# ---------------------------------------------------------------------------
# §16 Pipeline movement
# ---------------------------------------------------------------------------


def movement_windows(windows: Iterable[int]) -> list[int]:
    """§16 movement_windows_days: whole numbers >= 1, each window once."""
    days = []
    for value in windows:
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"movement_windows_days must be whole numbers >= 1: {value!r}")
        days.append(int(value))
    return sorted(set(days))


def _funnel_position(stage: Stage) -> tuple:
    """Where an open stage sits for higher / lower: by stage_order, a stage
    without one after every ordered stage (as in the event tie order), then
    stage_key."""
    return (stage.order is None, stage.order or 0, stage.key)


def departure_movement(stage: Stage, nxt: Stage) -> tuple[str, str | None]:
    """§16: how a visit of open stage S is left, by the next visit's stage:
    (movement, other_stage_key)."""
    if nxt.type == "won":
        return "won", None
    if nxt.type == "open":
        if _funnel_position(nxt) > _funnel_position(stage):
            return "advanced", nxt.key
        return "moved_back", nxt.key
    return "lost", None  # a lost stage (the only other stage type)


def arrival_movement(stage: Stage, previous: Stage | None) -> tuple[str, str | None]:
    """§16: how a visit of open stage S was entered, by the previous visit's
    stage: (movement, other_stage_key)."""
    if previous is None:
        return "new", None
    if previous.type == "open":
        if _funnel_position(previous) < _funnel_position(stage):
            return "from_earlier_stage", previous.key
        return "from_later_stage", previous.key
    return "reopened", None  # from a lost or won stage


def pipeline_movement(
    as_of: dt.date,
    as_of_at: dt.datetime,
    windows: Iterable[int],
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    zone_name: str,
    owner_of: dict[str, str | None],
    amount_of: dict[str, float | None],
    old_keys_as_of: Callable[[dt.datetime, Stage], set[tuple[str, int]]],
) -> list[dict]:
    """§16 fct_pipeline_movement for one pipeline (without its pipeline
    columns and reporting_currency): per window, owner, open stage, movement
    and other stage, the visits counted (leads) and their amounts.

    F = the end of from_date (its next local midnight, naive UTC), T =
    as_of_at. A visit is in S at X when entered_at < X and (exited_at is None
    or exited_at >= X). Visits are as of as_of_at, so each exited_at is < T
    and the visits in S at T are the leads' current visits. Old at T is the
    visit's is_old; old at F is being among the old visits of S's conversion
    as of F (old_keys_as_of(F, stage): {(lead_id, visit_number)}), which is
    what a build dated from_date computes (§13: the history equals dated
    builds)."""
    counts: dict[tuple, list] = {}

    def add(window: int, lead_id: str, stage: Stage, movement: str, other: str | None) -> None:
        key = (window, owner_of.get(lead_id), stage.key, movement, other)
        entry = counts.setdefault(key, [0, []])
        entry[0] += 1
        entry[1].append(amount_of.get(lead_id))

    for window in movement_windows(windows):
        from_date = as_of - dt.timedelta(days=window)
        start = local_midnight_as_utc(from_date + dt.timedelta(days=1), zone_name)
        end = as_of_at

        def within(instant: dt.datetime | None, start=start, end=end) -> bool:
            return instant is not None and start <= instant < end

        for lead_id in sorted(visits_by_lead):
            visits = visits_by_lead[lead_id]
            for index, visit in enumerate(visits):
                stage = stages[visit.stage_key]
                if stage.type != "open":
                    continue
                in_at_start = visit.entered_at < start and (
                    visit.exited_at is None or visit.exited_at >= start
                )
                in_at_end = visit.entered_at < end and (
                    visit.exited_at is None or visit.exited_at >= end
                )
                if in_at_start:
                    add(window, lead_id, stage, "in_stage_at_start", None)
                if in_at_end:
                    add(window, lead_id, stage, "in_stage_at_end", None)
                if within(visit.entered_at):
                    previous = stages[visits[index - 1].stage_key] if index else None
                    add(window, lead_id, stage, *arrival_movement(stage, previous))
                if within(visit.exited_at):
                    nxt = stages[visits[index + 1].stage_key]
                    add(window, lead_id, stage, *departure_movement(stage, nxt))
                if in_at_start and in_at_end:
                    became_old = visit.is_old and (
                        lead_id,
                        visit.visit_number,
                    ) not in old_keys_as_of(start, stage)
                    add(window, lead_id, stage, "became_old" if became_old else "stayed", None)

    movement_rank = {movement: rank for rank, movement in enumerate(MOVEMENT_GROUPS)}
    rows = []
    for (window, owner, stage_key, movement, other), (leads, amounts) in counts.items():
        known = [amount for amount in amounts if amount is not None]
        stage = stages[stage_key]
        rows.append(
            {
                "window_days": window,
                "from_date": as_of - dt.timedelta(days=window),
                "to_date": as_of,
                "owner_id": owner,
                "stage_key": stage_key,
                "stage_order": stage.order,
                "movement": movement,
                "movement_group": MOVEMENT_GROUPS[movement],
                "other_stage_key": other,
                "leads": leads,
                "amount_reporting": math.fsum(known) if known else None,
            }
        )
    rows.sort(
        key=lambda r: (
            r["window_days"],
            r["owner_id"] is not None,
            r["owner_id"] or "",
            *_funnel_position(stages[r["stage_key"]]),
            movement_rank[r["movement"]],
            r["other_stage_key"] is not None,
            r["other_stage_key"] or "",
        )
    )
    return rows


# ---------------------------------------------------------------------------
# §17 Revenue forecast and its backtest
# ---------------------------------------------------------------------------

MONTHS_AHEAD = (1, 2, 3)
FORECAST_SOURCES = ("open_pipeline", "new_leads")
FORECAST_METHODS = ("model", "weighted_pipeline", "last_3_months_average")


@dataclass(frozen=True)
class MonthWindow:
    """A calendar month's window [start, end) as naive UTC instants, and
    its calendar days."""

    month: dt.date  # the month's first day
    start: dt.datetime
    end: dt.datetime
    days: int

    def holds(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month count months after month's (before, when
    count < 0)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_window(month: dt.date, zone_name: str, from_day: dt.date | None = None) -> MonthWindow:
    """The window of month's calendar month in the business time zone, from
    the start of from_day when that is later than its first day, to the
    end of its last day (the zone's midnights, as as_of_at)."""
    first = max(month, from_day) if from_day is not None else month
    following = add_months(month, 1)
    return MonthWindow(
        month,
        local_midnight_as_utc(first, zone_name),
        local_midnight_as_utc(following, zone_name),
        (following - first).days,
    )


def forecast_dates(as_of: dt.date, first_day: dt.date) -> list[dt.date]:
    """§17: each day of the history (first_day through as_of) before the
    as-of date that is the last day of a month, then the as-of date."""
    days = []
    day = first_day
    while day < as_of:
        if (day + dt.timedelta(days=1)).day == 1:
            days.append(day)
        day += dt.timedelta(days=1)
    return [*days, as_of]


def forecast_months(day: dt.date, zone_name: str) -> list[MonthWindow]:
    """§17: months ahead 1, 2, 3 of forecast date D, the calendar month of
    D + 1 day and the two after it; each window starts at the later of the
    month's first instant and as_of_at of D."""
    after = day + dt.timedelta(days=1)
    first = after.replace(day=1)
    return [month_window(add_months(first, k - 1), zone_name, after) for k in MONTHS_AHEAD]


def inflow_months(day: dt.date, zone_name: str) -> list[MonthWindow]:
    """§17: the inflow window, the three calendar months before the month of
    D + 1 day, month by month (oldest first)."""
    first = (day + dt.timedelta(days=1)).replace(day=1)
    return [month_window(add_months(first, -back), zone_name) for back in (3, 2, 1)]


def visit_at(visits: list[Visit], instant: dt.datetime) -> Visit | None:
    """The lead's visit in progress at instant: its last visit entered
    before it (§16's "in S at X": entered_at < X and not left by X)."""
    entered = [visit for visit in visits if visit.entered_at < instant]
    return entered[-1] if entered else None


def open_pipeline_at(
    visits_by_lead: dict[str, list[Visit]], stages: dict[str, Stage], instant: dt.datetime
) -> dict[str, Visit]:
    """§17 the open pipeline at D: each lead's visit in progress at
    as_of_at of D, when it is of an open stage."""
    pipeline = {}
    for lead_id, visits in visits_by_lead.items():
        current = visit_at(visits, instant)
        if current is not None and stages[current.stage_key].type == "open":
            pipeline[lead_id] = current
    return pipeline


def time_to_win(
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    stage_key: str,
    instant: dt.datetime,
) -> list[tuple[int, bool]]:
    """§17: the (time in microseconds, won) observations of open stage S's
    curve as of instant (as_of_at of D): each visit of S entered before it
    is an event at the lead's first later won visit when that was entered
    before the instant, else censored at the instant when the lead is then
    in an open stage, else (lost) left out."""
    observations = []
    for visits in visits_by_lead.values():
        current = visit_at(visits, instant)
        for index, visit in enumerate(visits):
            if visit.stage_key != stage_key or visit.entered_at >= instant:
                continue
            won = next((v for v in visits[index + 1 :] if stages[v.stage_key].type == "won"), None)
            if won is not None and won.entered_at < instant:
                observations.append((_microseconds(won.entered_at - visit.entered_at), True))
            elif current is not None and stages[current.stage_key].type == "open":
                observations.append((_microseconds(instant - visit.entered_at), False))
    return observations


def time_to_lose(
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    stage_key: str,
    instant: dt.datetime,
) -> list[tuple[int, bool]]:
    """§17: the (time in microseconds, lost) observations of open stage S's
    lost curve L as of instant (as_of_at of D): each visit of S entered
    before it is censored at the instant when the lead is then in an open
    stage; else left out when it is a won event of W (the lead's first
    later won visit entered before the instant); else (the lead is lost at
    D) an event at the lead's first later lost visit."""
    observations = []
    for visits in visits_by_lead.values():
        current = visit_at(visits, instant)
        for index, visit in enumerate(visits):
            if visit.stage_key != stage_key or visit.entered_at >= instant:
                continue
            later = visits[index + 1 :]
            won = next((v for v in later if stages[v.stage_key].type == "won"), None)
            lost = next((v for v in later if stages[v.stage_key].type == "lost"), None)
            if current is not None and stages[current.stage_key].type == "open":
                observations.append((_microseconds(instant - visit.entered_at), False))
            elif won is not None and won.entered_at < instant:
                continue
            elif lost is not None:
                # The lead is lost at D: its current visit is a later lost
                # one, so the first lost visit after this one was entered
                # before the instant.
                observations.append((_microseconds(lost.entered_at - visit.entered_at), True))
    return observations


def won_curve(observations: Iterable[tuple[int, bool]]) -> list[tuple[int, float]]:
    """§17 Kaplan-Meier (W from time_to_win's observations, L from
    time_to_lose's): for each distinct event time u (ascending), the curve
    just after u: the product of (1 - d(u') / n(u')) over the event times
    u' <= u, n(u') the observations with a time >= u' (censored at u':
    still at risk)."""
    observations = list(observations)
    with_time = Counter(time for time, _ in observations)
    events_at = Counter(time for time, won in observations if won)
    at_risk = len(observations)
    share = 1.0
    curve = []
    for time in sorted(with_time):
        if events_at[time]:
            share *= 1 - events_at[time] / at_risk
            curve.append((time, share))
        at_risk -= with_time[time]
    return curve


def not_yet_won(curve: list[tuple[int, float]], time: int) -> float:
    """§17 W(t) (L(t) of a lost curve): the share of won visits not yet won
    (lost visits not yet lost) when t microseconds have passed, the product
    over the event times u < t (strictly); 1 up to the first event."""
    share = 1.0
    for event_time, after in curve:
        if event_time >= time:
            break
        share = after
    return share


def open_lead_chance(
    probability: float | None,
    won: list[tuple[int, float]],
    lost: list[tuple[int, float]],
    age: int,
    start: int,
    end: int,
) -> float | None:
    """§17: the chance that an open lead aged `age` is won in the window
    [start, end) (microseconds since its visit began), won and lost being
    its stage's curves W and L:
    p x (W(start) - W(end)) / (p x W(age) + (1 - p) x L(age)); None without
    p, 0 when the denominator is 0."""
    if probability is None:
        return None
    denominator = probability * not_yet_won(won, age) + (1 - probability) * not_yet_won(lost, age)
    if denominator == 0:
        return 0.0
    won_in_window = not_yet_won(won, start) - not_yet_won(won, end)
    return probability * won_in_window / denominator


def new_lead_chance(
    probability: float | None,
    curve: list[tuple[int, float]],
    created: MonthWindow,
    won: MonthWindow,
) -> float | None:
    """§17: the chance that a lead created at the middle instant c_j of month
    j's window is won in month k's: p x (W(max(0, w1_k - c_j)) - W(w2_k - c_j));
    None without p."""
    if probability is None:
        return None
    centre = created.start + (created.end - created.start) / 2
    start = max(0, _microseconds(won.start - centre))
    end = _microseconds(won.end - centre)
    return probability * (not_yet_won(curve, start) - not_yet_won(curve, end))


def won_in(visits: list[Visit], stages: dict[str, Stage], window: MonthWindow) -> bool:
    """§17 actual wins: the lead has a won visit entered in the window."""
    return any(stages[v.stage_key].type == "won" and window.holds(v.entered_at) for v in visits)


def known_sum(values: Iterable[float | None]) -> float | None:
    """The sum of the values that are known; None when none is."""
    known = [value for value in values if value is not None]
    return math.fsum(known) if known else None


def forecast_as_of(
    day: dt.date,
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    zone_name: str,
    owner_of: dict[str, str | None],
    amount_of: dict[str, float | None],
    probability: dict[str, float | None],
) -> list[dict]:
    """§17 the forecast as of forecast date D (fct_revenue_forecast's rows,
    without the pipeline columns and reporting_currency), from the visits
    (as of the build's as-of date) as of as_of_at of D; probability is each
    open stage's win probability of a build dated D.

    open_pipeline rows: per month ahead, owner and stage with an open lead
    at D; new_leads rows: per month ahead and stage with inflow > 0, leads
    the expected new leads of the row's month, their chances those of the
    new leads of every month j <= k."""
    instant = local_midnight_as_utc(day + dt.timedelta(days=1), zone_name)
    months = forecast_months(day, zone_name)
    inflow = inflow_months(day, zone_name)
    inflow_days = sum(month.days for month in inflow)
    stage_list = open_stages(stages)
    curves = {
        stage.key: won_curve(time_to_win(visits_by_lead, stages, stage.key, instant))
        for stage in stage_list
    }
    lost_curves = {
        stage.key: won_curve(time_to_lose(visits_by_lead, stages, stage.key, instant))
        for stage in stage_list
    }
    pipeline = open_pipeline_at(visits_by_lead, stages, instant)

    # The mean amount of the pipeline's leads won in the inflow window.
    won_amounts = [
        amount_of.get(lead_id)
        for lead_id, visits in visits_by_lead.items()
        if any(won_in(visits, stages, month) for month in inflow)
        and amount_of.get(lead_id) is not None
    ]
    mean_won_amount = math.fsum(won_amounts) / len(won_amounts) if won_amounts else None

    rows = []
    for k, month in zip(MONTHS_AHEAD, months, strict=True):
        # open_pipeline, per owner and stage
        by_row: dict[tuple[str | None, str], list[tuple[float | None, float | None]]] = {}
        for lead_id, visit in pipeline.items():
            age = _microseconds(instant - visit.entered_at)
            chance = open_lead_chance(
                probability.get(visit.stage_key),
                curves[visit.stage_key],
                lost_curves[visit.stage_key],
                age,
                _microseconds(month.start - visit.entered_at),
                _microseconds(month.end - visit.entered_at),
            )
            key = (owner_of.get(lead_id), visit.stage_key)
            by_row.setdefault(key, []).append((chance, amount_of.get(lead_id)))
        for (owner, stage_key), leads in by_row.items():
            chances = [chance for chance, _ in leads if chance is not None]
            rows.append(
                {
                    "forecast_month": month.month,
                    "months_ahead": k,
                    "forecast_source": "open_pipeline",
                    "owner_id": owner,
                    "stage_key": stage_key,
                    "stage_order": stages[stage_key].order,
                    "leads": float(len(leads)),
                    "expected_won_deals": math.fsum(chances),
                    "expected_won_amount": known_sum(
                        chance * amount
                        for chance, amount in leads
                        if chance is not None and amount is not None
                    ),
                }
            )
        # new_leads, per stage with an inflow
        for stage in stage_list:
            first_visits = sum(
                1
                for visits in visits_by_lead.values()
                if visits[0].stage_key == stage.key
                and any(inflow_month.holds(visits[0].entered_at) for inflow_month in inflow)
            )
            if not first_visits:
                continue
            daily = first_visits / inflow_days
            chances = [
                new_lead_chance(probability.get(stage.key), curves[stage.key], created, month)
                for created in months[:k]
            ]
            deals = (
                math.fsum(
                    daily * created.days * chance
                    for created, chance in zip(months[:k], chances, strict=True)
                )
                if probability.get(stage.key) is not None
                else None
            )
            rows.append(
                {
                    "forecast_month": month.month,
                    "months_ahead": k,
                    "forecast_source": "new_leads",
                    "owner_id": None,
                    "stage_key": stage.key,
                    "stage_order": stage.order,
                    "leads": daily * month.days,
                    "expected_won_deals": deals if deals is not None else 0.0,
                    "expected_won_amount": deals * mean_won_amount
                    if deals is not None and mean_won_amount is not None
                    else None,
                }
            )
    source_rank = {source: rank for rank, source in enumerate(FORECAST_SOURCES)}
    rows.sort(
        key=lambda r: (
            r["months_ahead"],
            source_rank[r["forecast_source"]],
            r["owner_id"] is not None,
            r["owner_id"] or "",
            *_funnel_position(stages[r["stage_key"]]),
        )
    )
    return rows


def backtest_row(
    day: dt.date,
    month: MonthWindow,
    k: int,
    method: str,
    stage_key: str | None,
    forecast: tuple[float, float],
    actual: tuple[int, float],
) -> dict:
    """One fct_forecast_backtest row (without the pipeline columns and
    reporting_currency): forecast and actual (deals, amount), the error and
    the absolute percentage error (None when the actual amount is 0)."""
    error = forecast[1] - actual[1]
    return {
        "as_of_date": day,
        "forecast_month": month.month,
        "months_ahead": k,
        "forecast_method": method,
        "stage_key": stage_key,
        "forecast_won_deals": forecast[0],
        "actual_won_deals": actual[0],
        "forecast_won_amount": forecast[1],
        "actual_won_amount": actual[1],
        "error_amount": error,
        "absolute_percentage_error": abs(error) / actual[1] if actual[1] else None,
    }


def forecast_backtest(
    day: dt.date,
    build_as_of_at: dt.datetime,
    visits_by_lead: dict[str, list[Visit]],
    stages: dict[str, Stage],
    zone_name: str,
    owner_of: dict[str, str | None],
    amount_of: dict[str, float | None],
    probability: dict[str, float | None],
    old: set[tuple[str, str]],
) -> list[dict]:
    """§17 fct_forecast_backtest's rows of a past forecast date D (without
    the pipeline columns and reporting_currency), for each month ahead
    whose window has ended by the build's as_of_at: the model per open stage
    and for the pipeline, the weighted pipeline and the last three months'
    average for the pipeline. probability and old are a build dated D's
    win probabilities and old (lead_id, stage_key) visits."""
    instant = local_midnight_as_utc(day + dt.timedelta(days=1), zone_name)
    forecast = forecast_as_of(
        day, visits_by_lead, stages, zone_name, owner_of, amount_of, probability
    )
    pipeline = open_pipeline_at(visits_by_lead, stages, instant)

    def actual(lead_ids: Iterable[str], window: MonthWindow) -> tuple[int, float]:
        won = [lead_id for lead_id in lead_ids if won_in(visits_by_lead[lead_id], stages, window)]
        return len(won), math.fsum(a for a in map(amount_of.get, won) if a is not None)

    def total(rows: list[dict]) -> tuple[float, float]:
        return (
            math.fsum(r["expected_won_deals"] for r in rows),
            math.fsum(r["expected_won_amount"] or 0.0 for r in rows),
        )

    # weighted_pipeline: the open leads at D that are not old, no timing.
    healthy = [
        (probability.get(visit.stage_key), amount_of.get(lead_id))
        for lead_id, visit in pipeline.items()
        if (lead_id, visit.stage_key) not in old
    ]
    weighted = (
        math.fsum(p for p, _ in healthy if p is not None),
        math.fsum(p * a for p, a in healthy if p is not None and a is not None),
    )
    # last_3_months_average: the mean of the inflow window's monthly wins.
    monthly = [actual(visits_by_lead, month) for month in inflow_months(day, zone_name)]
    average = (
        math.fsum(deals for deals, _ in monthly) / len(monthly),
        math.fsum(amount for _, amount in monthly) / len(monthly),
    )

    rows = []
    for k, month in zip(MONTHS_AHEAD, forecast_months(day, zone_name), strict=True):
        if month.end > build_as_of_at:
            continue  # not ended by the build's as_of_at
        in_month = [r for r in forecast if r["months_ahead"] == k]
        everyone = actual(visits_by_lead, month)
        rows.append(backtest_row(day, month, k, "model", None, total(in_month), everyone))
        for stage in open_stages(stages):
            of_stage = [
                r
                for r in in_month
                if r["stage_key"] == stage.key and r["forecast_source"] == "open_pipeline"
            ]
            in_stage = [i for i, visit in pipeline.items() if visit.stage_key == stage.key]
            won = actual(in_stage, month)
            rows.append(backtest_row(day, month, k, "model", stage.key, total(of_stage), won))
        rows.append(backtest_row(day, month, k, "weighted_pipeline", None, weighted, everyone))
        rows.append(backtest_row(day, month, k, "last_3_months_average", None, average, everyone))
    return rows


def forecast_accuracy(backtest: list[dict]) -> list[dict]:
    """§17 rpt_forecast_accuracy: per pipeline, method and month ahead of the
    backtest's pipeline rows (stage_key None): the rows with an actual
    amount > 0 (months_compared), their mean absolute percentage error and
    bias = sum of errors / sum of actual amounts (None when none is
    compared). A group exists when it has a pipeline row."""
    groups: dict[tuple[str, str, int], list[dict]] = {}
    for row in backtest:
        if row["stage_key"] is None:
            key = (row["pipeline_id"], row["forecast_method"], row["months_ahead"])
            groups.setdefault(key, []).append(row)
    method_rank = {method: rank for rank, method in enumerate(FORECAST_METHODS)}
    rows = []
    for (pipeline_id, method, k), group in sorted(
        groups.items(), key=lambda item: (item[0][0], method_rank[item[0][1]], item[0][2])
    ):
        compared = [row for row in group if row["actual_won_amount"] > 0]
        actual = math.fsum(row["actual_won_amount"] for row in compared)
        rows.append(
            {
                "pipeline_id": pipeline_id,
                "pipeline_name": group[0]["pipeline_name"],
                "forecast_method": method,
                "months_ahead": k,
                "months_compared": len(compared),
                "mean_absolute_percentage_error": math.fsum(
                    row["absolute_percentage_error"] for row in compared
                )
                / len(compared)
                if compared
                else None,
                "bias": ratio(math.fsum(row["error_amount"] for row in compared), actual),
            }
        )
    return rows


def visits_of_rows(visit_rows: Iterable[dict]) -> dict[str, list[Visit]]:
    """fct_lead_stage_visits' rows as each lead's visits, in visit order."""
    visits_by_lead: dict[str, list[Visit]] = {}
    for row in sorted(visit_rows, key=lambda r: (r["lead_id"], r["visit_number"])):
        visits_by_lead.setdefault(row["lead_id"], []).append(
            Visit(
                row["lead_id"],
                row["stage_key"],
                row["visit_number"],
                row["entered_at"],
                row["exited_at"],
                row["next_stage_key"],
            )
        )
    return visits_by_lead


def revenue_forecast_marts(
    inputs: tuple[list[Row], ...],
    marts: dict[str, list[dict]],
    first_day: dt.date,
    options: dict,
) -> dict[str, list[dict]]:
    """§17 fct_revenue_forecast, fct_forecast_backtest and
    rpt_forecast_accuracy of a build (marts: its other marts, from
    project_marts; first_day: its history's first day). The visits, owners
    and deal_amount_reporting are the build's (fct_lead_stage_visits); each
    forecast date D's win probabilities (fct_pipeline_value) and old leads
    (rpt_old_leads) are those of a build dated D, project_marts as of D
    (the build itself for its own as-of date)."""
    as_of = marts["fct_stage_conversion"][0]["as_of_date"]
    zone_name = options.get("business_time_zone", "UTC")
    currency = options.get("reporting_currency", "USD").upper()
    as_of_at = local_midnight_as_utc(as_of + dt.timedelta(days=1), zone_name)
    builds = {as_of: marts}
    for day in forecast_dates(as_of, first_day)[:-1]:
        # Only the win probabilities and old leads are read: no movement.
        day_options = {**options, "movement_windows_days": ()}
        builds[day] = project_marts(*inputs, day.isoformat(), **day_options)
    probability_as_of = {
        day: {r["stage_key"]: r["win_probability"] for r in build["fct_pipeline_value"]}
        for day, build in builds.items()
    }
    old_as_of = {
        day: {(r["lead_id"], r["stage_key"]) for r in build["rpt_old_leads"]}
        for day, build in builds.items()
    }

    result: dict[str, list[dict]] = {name: [] for name in FORECAST_MARTS}
    for pipeline_id, (name, stage_rows) in sorted(pipelines_of(inputs[2]).items()):
        stages = load_stages(stage_rows)
        visit_rows = [r for r in marts["fct_lead_stage_visits"] if r["pipeline_id"] == pipeline_id]
        visits_by_lead = visits_of_rows(visit_rows)
        owner_of = {r["lead_id"]: r["owner_id"] for r in visit_rows}
        amount_of = {r["lead_id"]: r["deal_amount_reporting"] for r in visit_rows}
        columns = {"pipeline_id": pipeline_id, "pipeline_name": name}
        for row in forecast_as_of(
            as_of, visits_by_lead, stages, zone_name, owner_of, amount_of, probability_as_of[as_of]
        ):
            result["fct_revenue_forecast"].append({"as_of_date": as_of, **row, **columns})
        for day in sorted(builds):
            if day < as_of:
                for row in forecast_backtest(
                    day,
                    as_of_at,
                    visits_by_lead,
                    stages,
                    zone_name,
                    owner_of,
                    amount_of,
                    probability_as_of[day],
                    old_as_of[day],
                ):
                    result["fct_forecast_backtest"].append({**row, **columns})
    result["rpt_forecast_accuracy"] = forecast_accuracy(result["fct_forecast_backtest"])
    for rows in result.values():
        for row in rows:
            row["reporting_currency"] = currency
    return {
        mart: [{column: row[column] for column in MART_COLUMNS[mart]} for row in rows]
        for mart, rows in result.items()
    }


# ---------------------------------------------------------------------------
# rpt_export_files: every file of the export folder and what happens to it
# ---------------------------------------------------------------------------

EXPORT_TABLES = {
    "raw_leads": ["lead_id", "created_at", "lead_source", "segment", "owner_id", "deal_amount_usd"],
    "raw_lead_transitions": ["lead_id", "stage_key", "entered_at"],
}
CONFIG_FILE_NAMES = ("pipeline_stages.csv", "stage_benchmarks.csv", "revenue_targets.csv")


def export_files_report(
    folder: str, raw_format: str = "csv", config_folder: str | None = None
) -> list[Row]:
    """rpt_export_files for a folder of readable files, from the README's
    rules: a file whose name starts (any case) with an export table's name
    and ends .csv / .csv.gz (csv) or .parquet (parquet) is read, its data
    rows counted (a CSV's delimiter is the one that makes its header name
    the required columns); a configuration file of config_folder, when it
    is this folder, is configuration; anything else is ignored. Parquet
    row counts are not computed here (None)."""
    import gzip
    import os

    same_config = config_folder is not None and os.path.samefile(folder, config_folder)
    rows = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        lower = name.lower()
        table = next(
            (t for t in ("raw_lead_transitions", "raw_leads") if lower.startswith(t)), None
        )
        kind = (
            "csv.gz"
            if lower.endswith(".csv.gz")
            else "csv"
            if lower.endswith(".csv")
            else "parquet"
            if lower.endswith(".parquet")
            else None
        )
        family = None if kind is None else ("parquet" if kind == "parquet" else "csv")
        row: Row = {
            "file_name": name,
            "raw_table": table,
            "file_format": kind if os.path.isfile(path) else None,
            "status": "ignored",
            "row_count": None,
            "file_size_bytes": os.path.getsize(path) if os.path.isfile(path) else None,
        }
        if table is None and same_config and lower in CONFIG_FILE_NAMES:
            row["status"] = "configuration"
        elif table is not None and family == raw_format and kind != "parquet":
            opener = gzip.open if kind == "csv.gz" else open
            with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
                text = handle.read()
            header = text.splitlines()[0] if text.strip() else ""
            delimiter = next(
                (
                    d
                    for d in ",;\t|"
                    if set(EXPORT_TABLES[table])
                    <= {f.strip().lower() for f in next(csv.reader([header], delimiter=d))}
                ),
                ",",
            )
            records = list(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))
            row["status"] = "read"
            row["row_count"] = max(len([r for r in records if r]) - 1, 0)
        elif table is not None and family == raw_format:
            row["status"] = "read"
        rows.append(row)
    return rows
