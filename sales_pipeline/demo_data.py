"""Deterministic demo-data generator for the sales-pipeline warehouse.

Writes two CRM-style exports (every value is text, empty string = missing):

* ``raw_leads.csv``: lead_id, created_at, lead_source, segment, owner_id,
  deal_amount_usd
* ``raw_lead_transitions.csv``: lead_id, stage_key, entered_at (one row per
  stage change: the stage the lead ENTERED and when)

From Python: ``generate(...)`` then ``write_csvs(...)``; from the shell:
scripts/generate_demo_data.py (``make demo-data`` regenerates the seeds).

The model
---------
The stage configuration (``pipeline_stages``) is read, never assumed: any
number (>= 1) of open stages ordered by ``stage_order``, exactly one won
stage, one or more lost stages. Nothing refers to particular stage keys.

* Leads are created over ``months`` months from ``start`` with mild growth
  (the creation density rises linearly to 1.6x by the end), fewer on weekends,
  in (UTC) office hours. Ids ``L000001``.. follow creation order.
* Each lead has a source (inbound, outbound, referral, partner, event), a
  segment (smb, mid_market, enterprise) and an owner (``rep_01``..``rep_12``).
* It enters the first open stage at created_at (70 %) or minutes later. From
  an open stage it then stalls, regresses, is lost or advances after a
  log-normal dwell whose mean grows from 4 days (first open stage) to 14 days
  (last), x0.75 for smb, x1.5 for enterprise, x0.85-1.15 per rep. A move is a
  loss with probability 0.50 in the first open stage, 0.33 in the middle ones
  and 0.60 in the last (x0.75 for referrals .. x1.2 for outbound), so stage
  conversion lands near common B2B benchmarks.
* ``rep_07`` has a bandwidth problem: their leads dwell 3-4x longer and stall
  (stop moving) 0.40 of the time per stage instead of 0.06, so many are old.
* A stalled lead either never moves again (55 %) or moves, mostly to lost,
  after 4-10x the normal dwell.
* Nothing happens at or after the end of the period (``start + months``): a
  lead whose next move would fall later stays where it is, so recent leads are
  open, some within and some well past a "2 x average dwell" threshold.
* ``deal_amount_usd`` is log-normal per segment (smb ~5k in cents,
  mid_market ~25k in whole dollars, enterprise ~90k rounded to 100); empty
  for ~10 % of the leads that are not won.

Edge cases of metric-docs/metrics.md section 2 (probabilities x ``edge_case_rate``,
capped at 1; ``edge_case_rate=0`` gives clean, canonical data; losses,
stalls, rep_07 and missing amounts are the business story and not scaled):

* skipped stages: 7 % of advances that can skip (not from the last open
  stage) jump over one or more open stages, 35 % of those straight to won
  (~5 % of all advances);
* regressions: 4 % of moves out of a non-first open stage go to a lower one;
* reopened: 4 % of lost leads re-enter an open stage (the one they were lost
  from, or the first) about a month later, at most once per lead (~3 % in the
  data: some reopenings would fall after the period);
* exact duplicate event rows: 2 % of rows are written twice; a quarter of
  those repeat the same instant written in another timestamp format;
* same-stage re-saves: 3 % of events get a second event for the same stage a
  bit later (before the lead's next event);
* equal timestamps: 1 % of leads have a move recorded at the exact instant of
  the previous event, half of them (when possible) a lost stage tied with an
  open one. Only advances and losses are tied, so that the spec's tie order
  (stage_order, lost last) reproduces the intended path;
* timestamp formats: 2 % of timestamps carry an explicit offset
  (``2025-03-04T11:15:00+02:00``, same instant), 3 % use a space and no zone
  (``2025-03-04 09:15:00``, UTC); the rest are ``2025-03-04T09:15:00Z``.

``timestamp_granularity`` floors every time to the second, minute or day
(``day``: all times 00:00:00, which creates many ties; then the tie order of
the spec decides the visit order, not the generated path).

``summarize(...)`` counts the rows written (the command line prints it).

Determinism: all randomness comes from ``random.Random`` seeded from
``seed`` (one master generator hands a 64-bit seed to each lead), the
clock is never read, and no set or hash order is iterated. The same
arguments give byte-identical files. Transition rows are shuffled
(deterministically), as CRM exports are.
"""

from __future__ import annotations

import csv
import math
import pathlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sales_pipeline.export_files import RAW_COLUMNS

LEAD_COLUMNS = tuple(RAW_COLUMNS["raw_leads"])
TRANSITION_COLUMNS = tuple(RAW_COLUMNS["raw_lead_transitions"])
GRANULARITY_SECONDS = {"second": 1, "minute": 60, "day": 86_400}

DAY = 86_400
EPOCH = date(1970, 1, 1)
EPOCH_DT = datetime(1970, 1, 1)

REPS = tuple(f"rep_{i:02d}" for i in range(1, 13))
SLOW_REP = "rep_07"
# (source, weight, multiplier on the probability of being lost)
SOURCES = (
    ("inbound", 0.34, 1.00),
    ("outbound", 0.24, 1.20),
    ("referral", 0.14, 0.75),
    ("partner", 0.12, 0.90),
    ("event", 0.16, 1.10),
)


@dataclass(frozen=True)
class Segment:
    name: str
    weight: float
    dwell_mult: float
    median_amount_usd: float
    rounding: str  # "cents" | "dollars" | "hundreds"


SEGMENTS = (
    Segment("smb", 0.50, 0.75, 4_500.0, "cents"),
    Segment("mid_market", 0.33, 1.00, 22_000.0, "dollars"),
    Segment("enterprise", 0.17, 1.50, 80_000.0, "hundreds"),
)
AMOUNT_SIGMA = 0.45
DWELL_SIGMA = 0.6
FIRST_STAGE_MEAN_DAYS = 4.0
LAST_STAGE_MEAN_DAYS = 14.0
SINGLE_STAGE_MEAN_DAYS = 7.0
LOST_DWELL_MULT = 0.7
# Probability that a move out of an open stage is a loss (before the source multiplier):
# qualification disqualifies many leads, proposals are often turned down.
FIRST_STAGE_LOST_PROB = 0.50
MIDDLE_STAGE_LOST_PROB = 0.33
LAST_STAGE_LOST_PROB = 0.60
STALL_PROB = 0.06
SLOW_REP_STALL_PROB = 0.40
SLOW_REP_DWELL_RANGE = (3.0, 4.0)
STALL_FOREVER_SHARE = 0.55
STALL_DWELL_RANGE = (4.0, 10.0)
STALL_THEN_LOST_SHARE = 0.75
REOPEN_MEDIAN_DAYS = 30.0
MISSING_AMOUNT_SHARE = 0.10
GROWTH = 0.6
MAX_EVENTS_PER_LEAD = 40
OFFSETS_MINUTES = (60, 120, 330, -300, -480, 540, -210)

# Base edge-case probabilities, multiplied by edge_case_rate.
BASE_RATES = {
    "skip": 0.07,
    "regress": 0.04,
    "reopen": 0.04,
    "duplicate": 0.02,
    "resave": 0.03,
    "tie": 0.01,
    "offset_format": 0.02,
    "naive_format": 0.03,
}
SKIP_TO_WON_SHARE = 0.35
DUPLICATE_REFORMAT_SHARE = 0.25


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Pipeline:
    """The stage configuration, reduced to what the simulation needs."""

    open_keys: tuple[str, ...]
    won_key: str
    lost_keys: tuple[str, ...]
    orders: dict[str, int]  # open and won stages only

    @classmethod
    def from_rows(cls, stages: Sequence[dict[str, str]]) -> Pipeline:
        open_rows: list[tuple[int, str]] = []
        won: list[tuple[int, str]] = []
        lost: list[str] = []
        for row in stages:
            key = (row.get("stage_key") or "").strip()
            kind = (row.get("stage_type") or "").strip().lower()
            if not key:
                raise ValueError(f"stage row without stage_key: {row}")
            if kind == "lost":
                lost.append(key)
            elif kind in ("open", "won"):
                order = _parse_order(row, key)
                (open_rows if kind == "open" else won).append((order, key))
            else:
                raise ValueError(
                    f"stage {key!r}: stage_type must be open, won or lost, got {kind!r}"
                )
        open_rows.sort()
        _validate_stages(open_rows, won, lost)
        orders = {key: order for order, key in [*open_rows, *won]}
        return cls(tuple(k for _, k in open_rows), won[0][1], tuple(sorted(lost)), orders)

    @property
    def n_open(self) -> int:
        return len(self.open_keys)

    def base_dwell_days(self, pos: int) -> float:
        """Mean dwell of the open stage at position ``pos`` (0-based)."""
        if self.n_open == 1:
            return SINGLE_STAGE_MEAN_DAYS
        span = LAST_STAGE_MEAN_DAYS - FIRST_STAGE_MEAN_DAYS
        return FIRST_STAGE_MEAN_DAYS + span * pos / (self.n_open - 1)

    def lost_prob(self, pos: int) -> float:
        """Base probability that a move out of open stage ``pos`` is a loss."""
        if pos == 0:
            return FIRST_STAGE_LOST_PROB
        if pos == self.n_open - 1:
            return LAST_STAGE_LOST_PROB
        return MIDDLE_STAGE_LOST_PROB


def _parse_order(row: dict[str, str], key: str) -> int:
    text = (row.get("stage_order") or "").strip()
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(
            f"stage {key!r}: open and won stages need a numeric stage_order, got {text!r}"
        ) from None


def _validate_stages(
    open_rows: list[tuple[int, str]], won: list[tuple[int, str]], lost: list[str]
) -> None:
    if not open_rows:
        raise ValueError("the stage configuration needs at least one open stage")
    if len(won) != 1:
        raise ValueError(f"the stage configuration needs exactly one won stage, got {len(won)}")
    if not lost:
        raise ValueError("the stage configuration needs at least one lost stage")
    orders = [order for order, _ in open_rows]
    if len(set(orders)) != len(orders):
        raise ValueError("open stages need distinct stage_order values")
    if won[0][0] <= orders[-1]:
        raise ValueError("the won stage needs a stage_order above every open stage")


@dataclass(frozen=True)
class Rates:
    """Edge-case probabilities after scaling by edge_case_rate."""

    skip: float
    regress: float
    reopen: float
    duplicate: float
    resave: float
    tie: float
    offset_format: float
    naive_format: float

    @classmethod
    def scaled(cls, edge_case_rate: float) -> Rates:
        if edge_case_rate < 0 or math.isnan(edge_case_rate):
            raise ValueError("edge_case_rate must be >= 0")
        return cls(**{name: min(1.0, p * edge_case_rate) for name, p in BASE_RATES.items()})


@dataclass(frozen=True)
class LeadProfile:
    source: str
    segment: Segment
    owner_id: str
    dwell_mult: float
    stall_prob: float
    loss_mult: float


@dataclass
class Event:
    ts: int  # POSIX seconds, UTC
    stage_key: str
    kind: str  # entry | advance | skip | regress | lost | reopen | resave


# --------------------------------------------------------------------------- time


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months (day clamped to the month's end)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return date(year, month, min(d.day, last_day))


def date_to_ts(d: date) -> int:
    return (d - EPOCH).days * DAY


def quantize(ts: int, step: int) -> int:
    return ts - ts % step


def format_ts(ts: int, style: str = "z", offset_minutes: int = 0) -> str:
    """ISO-8601 text for ``ts``.

    ``z``: ``...T09:15:00Z``; ``offset``: local time and offset (same instant);
    ``naive``: ``... 09:15:00`` (space, no zone, meaning UTC).
    """
    if style == "offset":
        local = EPOCH_DT + timedelta(seconds=ts + offset_minutes * 60)
        sign = "+" if offset_minutes >= 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{minutes:02d}"
    moment = EPOCH_DT + timedelta(seconds=ts)
    if style == "naive":
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"


def pick_style(rng: random.Random, rates: Rates) -> tuple[str, int]:
    r = rng.random()
    if r < rates.offset_format:
        return "offset", rng.choice(OFFSETS_MINUTES)
    if r < rates.offset_format + rates.naive_format:
        return "naive", 0
    return "z", 0


def days_to_seconds(days: float) -> int:
    return max(60, round(days * DAY))


def lognormal_days(rng: random.Random, mean_days: float, sigma: float = DWELL_SIGMA) -> float:
    """Log-normal draw with the given mean."""
    return rng.lognormvariate(math.log(mean_days) - sigma * sigma / 2, sigma)


# --------------------------------------------------------------------------- leads


def creation_times(rng: random.Random, n: int, start_ts: int, end_ts: int) -> list[int]:
    """``n`` sorted creation times in [start_ts, end_ts).

    Linear growth, lighter weekends, (UTC) office hours.
    """
    n_days = (end_ts - start_ts) // DAY
    times = []
    for _ in range(n):
        day = _growth_day(rng, n_days)
        for _ in range(5):  # keep 40 % of the weekend draws
            if not _is_weekend(start_ts, day) or rng.random() > 0.6:
                break
            day = _growth_day(rng, n_days)
        tod = int(rng.triangular(7 * 3600, 19 * 3600, 12 * 3600))
        times.append(start_ts + day * DAY + tod)
    times.sort()
    return times


def _is_weekend(start_ts: int, day: int) -> bool:
    return date.fromordinal(EPOCH.toordinal() + start_ts // DAY + day).weekday() >= 5


def _growth_day(rng: random.Random, n_days: int) -> int:
    """Day index from a density rising linearly from 1 to 1 + GROWTH (inverse CDF)."""
    f = rng.random()
    u = (-1 + math.sqrt(1 + f * GROWTH * (2 + GROWTH))) / GROWTH
    return min(n_days - 1, int(u * n_days))


def weighted_choice(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in items)
    for name, weight in items:
        r -= weight
        if r < 0:
            return name
    return items[-1][0]


def rep_multipliers(rng: random.Random) -> dict[str, float]:
    return {rep: 0.85 + 0.30 * rng.random() for rep in REPS}


def make_profile(rng: random.Random, rep_mult: dict[str, float]) -> LeadProfile:
    source = weighted_choice(rng, [(s, w) for s, w, _ in SOURCES])
    loss_mult = next(m for s, _, m in SOURCES if s == source)
    seg_name = weighted_choice(rng, [(s.name, s.weight) for s in SEGMENTS])
    segment = next(s for s in SEGMENTS if s.name == seg_name)
    owner = REPS[rng.randrange(len(REPS))]
    dwell = segment.dwell_mult * rep_mult[owner]
    stall = STALL_PROB
    if owner == SLOW_REP:
        dwell = segment.dwell_mult * rng.uniform(*SLOW_REP_DWELL_RANGE)
        stall = SLOW_REP_STALL_PROB
    return LeadProfile(source, segment, owner, dwell, stall, loss_mult)


def deal_amount(rng: random.Random, segment: Segment) -> str:
    value = rng.lognormvariate(math.log(segment.median_amount_usd), AMOUNT_SIGMA)
    if segment.rounding == "cents":
        return f"{value:.2f}"
    if segment.rounding == "hundreds":
        return str(max(100, round(value / 100.0) * 100))
    return str(max(1, round(value)))


# --------------------------------------------------------------------------- path


def simulate_path(
    rng: random.Random,
    pipe: Pipeline,
    profile: LeadProfile,
    entry_ts: int,
    end_ts: int,
    rates: Rates,
) -> list[Event]:
    """The lead's intended stage path: strictly increasing times, all < ``end_ts``."""
    events = [Event(entry_ts, pipe.open_keys[0], "entry")]
    pos, reopened = 0, False
    while len(events) < MAX_EVENTS_PER_LEAD:
        move = next_move(rng, pipe, profile, pos, rates)
        if move is None:
            break  # stalled for good
        kind, target, dwell_days = move
        ts = events[-1].ts + days_to_seconds(dwell_days)
        if ts >= end_ts:
            break
        events.append(Event(ts, target, kind))
        if target == pipe.won_key:
            break
        if kind == "lost":
            if reopened or rng.random() >= rates.reopen:
                break
            ts += days_to_seconds(lognormal_days(rng, REOPEN_MEDIAN_DAYS))
            if ts >= end_ts:
                break
            pos = pos if rng.random() < 0.6 else 0
            events.append(Event(ts, pipe.open_keys[pos], "reopen"))
            reopened = True
            continue
        pos = pipe.open_keys.index(target)
    return events


def next_move(
    rng: random.Random, pipe: Pipeline, profile: LeadProfile, pos: int, rates: Rates
) -> tuple[str, str, float] | None:
    """(kind, target stage, dwell days) of the move out of open stage ``pos``.

    None: the lead stalls for good.
    """
    dwell = lognormal_days(rng, pipe.base_dwell_days(pos) * profile.dwell_mult)
    lost_p = min(0.95, pipe.lost_prob(pos) * profile.loss_mult)
    if rng.random() < profile.stall_prob:
        if rng.random() < STALL_FOREVER_SHARE:
            return None
        dwell *= rng.uniform(*STALL_DWELL_RANGE)
        if rng.random() < STALL_THEN_LOST_SHARE:
            return "lost", rng.choice(pipe.lost_keys), dwell
        return (*advance_target(rng, pipe, pos, rates), dwell)
    if pos > 0 and rng.random() < rates.regress:
        target = pos - 1 if rng.random() < 0.8 else rng.randrange(pos)
        return "regress", pipe.open_keys[target], dwell
    if rng.random() < lost_p:
        return "lost", rng.choice(pipe.lost_keys), dwell * LOST_DWELL_MULT
    return (*advance_target(rng, pipe, pos, rates), dwell)


def advance_target(rng: random.Random, pipe: Pipeline, pos: int, rates: Rates) -> tuple[str, str]:
    """The next stage up, or sometimes further up (a skip, possibly straight to won)."""
    if pos <= pipe.n_open - 2 and rng.random() < rates.skip:
        further = list(pipe.open_keys[pos + 2 :])
        if not further or rng.random() < SKIP_TO_WON_SHARE:
            return "skip", pipe.won_key
        return "skip", rng.choice(further)
    if pos + 1 < pipe.n_open:
        return "advance", pipe.open_keys[pos + 1]
    return "advance", pipe.won_key


def apply_tie(rng: random.Random, events: list[Event], rates: Rates) -> bool:
    """Sometimes record an advance or a loss at the instant of the previous event."""
    if rng.random() >= rates.tie:
        return False
    lost = [k for k in range(1, len(events)) if events[k].kind == "lost"]
    moves = [k for k in range(1, len(events)) if events[k].kind in ("advance", "skip", "lost")]
    if not moves:
        return False
    k = rng.choice(lost) if lost and rng.random() < 0.5 else rng.choice(moves)
    events[k].ts = events[k - 1].ts
    return True


def add_resaves(
    rng: random.Random, events: list[Event], end_ts: int, step: int, rates: Rates
) -> list[Event]:
    """Insert a second event for the same stage a bit later (before the next event)."""
    out: list[Event] = []
    for k, event in enumerate(events):
        out.append(event)
        if rng.random() >= rates.resave:
            continue
        delay = days_to_seconds(min(2.0, rng.lognormvariate(math.log(0.15), 1.0)))
        # at least one granularity step later, so that it is not a duplicate
        later = max(quantize(event.ts + delay, step), event.ts + step)
        limit = events[k + 1].ts if k + 1 < len(events) else end_ts
        if event.ts < later < limit:
            out.append(Event(later, event.stage_key, "resave"))
    return out


def transition_rows(
    rng: random.Random, lead_id: str, events: list[Event], rates: Rates
) -> list[dict[str, str]]:
    """Format events as rows; some are written twice.

    A duplicate repeats the row exactly, or the same instant in another format.
    """
    rows = []
    for event in events:
        style, offset = pick_style(rng, rates)
        row = {
            "lead_id": lead_id,
            "stage_key": event.stage_key,
            "entered_at": format_ts(event.ts, style, offset),
        }
        rows.append(row)
        if rng.random() < rates.duplicate:
            copy = dict(row)
            if rng.random() < DUPLICATE_REFORMAT_SHARE:
                other = "naive" if style == "z" else "z"
                copy["entered_at"] = format_ts(event.ts, other)
            rows.append(copy)
    return rows


# --------------------------------------------------------------------------- generate


def generate(
    leads: int,
    seed: int,
    stages: list[dict[str, str]],
    start: date = date(2025, 1, 1),
    months: int = 20,
    edge_case_rate: float = 1.0,
    timestamp_granularity: str = "second",
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Generate (lead rows, transition rows); both are lists of text-valued dicts."""
    if leads < 0:
        raise ValueError("leads must be >= 0")
    if months < 1:
        raise ValueError("months must be >= 1")
    if timestamp_granularity not in GRANULARITY_SECONDS:
        raise ValueError(f"timestamp_granularity must be one of {', '.join(GRANULARITY_SECONDS)}")
    pipe = Pipeline.from_rows(stages)
    rates = Rates.scaled(edge_case_rate)
    step = GRANULARITY_SECONDS[timestamp_granularity]
    start_ts, end_ts = date_to_ts(start), date_to_ts(add_months(start, months))

    master = random.Random(seed)
    rep_mult = rep_multipliers(master)
    created = creation_times(master, leads, start_ts, end_ts)
    lead_rows: list[dict[str, str]] = []
    all_transitions: list[dict[str, str]] = []
    for index, created_ts in enumerate(created, start=1):
        lead_id = f"L{index:06d}"
        lead_row, rows = generate_lead(
            random.Random(master.getrandbits(64)),
            lead_id,
            created_ts,
            end_ts,
            step,
            pipe,
            rates,
            rep_mult,
        )
        lead_rows.append(lead_row)
        all_transitions.extend(rows)
    random.Random(master.getrandbits(64)).shuffle(all_transitions)
    return lead_rows, all_transitions


def generate_lead(
    rng: random.Random,
    lead_id: str,
    created_ts: int,
    end_ts: int,
    step: int,
    pipe: Pipeline,
    rates: Rates,
    rep_mult: dict[str, float],
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """One lead's row and its transition rows."""
    profile = make_profile(rng, rep_mult)
    entry_ts = created_ts
    if rng.random() >= 0.7:
        entry_ts = min(end_ts - 1, created_ts + rng.randint(30, 2 * 3600))
    events = simulate_path(rng, pipe, profile, entry_ts, end_ts, rates)
    apply_tie(rng, events, rates)
    for event in events:
        event.ts = quantize(event.ts, step)
    events = add_resaves(rng, events, end_ts, step, rates)

    amount = deal_amount(rng, profile.segment)
    won = events[-1].stage_key == pipe.won_key
    if not won and rng.random() < MISSING_AMOUNT_SHARE:
        amount = ""
    style, offset = pick_style(rng, rates)
    lead_row = {
        "lead_id": lead_id,
        "created_at": format_ts(quantize(created_ts, step), style, offset),
        "lead_source": profile.source,
        "segment": profile.segment.name,
        "owner_id": profile.owner_id,
        "deal_amount_usd": amount,
    }
    return lead_row, transition_rows(rng, lead_id, events, rates)


# --------------------------------------------------------------------------- io


def read_stages(path: str | pathlib.Path) -> list[dict[str, str]]:
    """Rows of a pipeline_stages CSV, values stripped.

    Columns: stage_key, stage_name, stage_order, stage_type, default_expected_days.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(handle)
        ]


def write_csvs(
    out_dir: pathlib.Path,
    leads_rows: list[dict[str, str]],
    transition_rows: list[dict[str, str]],
) -> None:
    """Write raw_leads.csv and raw_lead_transitions.csv into ``out_dir``.

    Header row, comma-separated, ``\\n`` line endings, minimal quoting, UTF-8.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "raw_leads.csv", LEAD_COLUMNS, leads_rows)
    _write_csv(out_dir / "raw_lead_transitions.csv", TRANSITION_COLUMNS, transition_rows)


def _write_csv(path: pathlib.Path, columns: Sequence[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row.get(c, "") for c in columns] for row in rows)


# --------------------------------------------------------------------------- summary


def summarize(
    leads_rows: list[dict[str, str]], transition_rows: list[dict[str, str]]
) -> dict[str, object]:
    """Row counts of what was written (the warehouse computes the metrics)."""
    return {
        "leads": len(leads_rows),
        "transition_rows": len(transition_rows),
        "distinct_transitions": len(
            {(r["lead_id"], r["stage_key"], r["entered_at"]) for r in transition_rows}
        ),
        "missing_deal_amount": sum(not r["deal_amount_usd"] for r in leads_rows),
        "owners": len({r["owner_id"] for r in leads_rows}),
    }
