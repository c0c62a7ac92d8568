"""Scale mode of the demo data: millions of leads, written by DuckDB in seconds.

The detailed generator (sales_pipeline.demo_data) walks each lead in Python,
which is right for 2,000 demo leads and far too slow for 3.5 million. This
mode draws the same kind of pipeline in one set of SQL statements: every
random number is a hash of (seed, lead, purpose), so the output depends on
nothing but the arguments, whatever the thread count, and the same
arguments write byte-identical files.

The model, per lead (stages read from pipeline_stages, nothing hard-coded):
- created uniformly over the period with mild growth, entering the first
  open stage at creation; source, segment, owner drawn like the demo's, with
  the demo's slow rep (rep_07) dwelling 3.5x longer and stalling often;
- in each open stage it dwells an exponential time (mean 4 days in the first
  open stage rising to 14 in the last, x segment and rep factors), then
  stalls (stays forever), is lost, regresses one stage (and stays), or
  advances; 5 % of advances skip a stage;
- events at or after the end of the period do not happen; 2 % of stage
  changes are written twice (exact duplicates, as CRM exports repeat rows).
About 2.9 transition rows per lead: 3,500,000 leads give about 10 million.

With increments=K the latest stage changes go to K increment files of
increment_share of the rows each (default 0.001, the 0.1 % a daily
refresh brings), oldest first: raw_lead_transitions_inc01, _inc02, ... and
raw_leads_inc01, ... for the leads created in the same span; the rest goes
to *_base files. The warehouse reads every file of a table together
(raw_path matches raw_leads*), so a test or benchmark can copy the base
files, build, then add one increment at a time.

From Python: generate(out, leads, ...); from the shell:
scripts/generate_scale_data.py.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from datetime import date

import duckdb

from sales_pipeline import demo_data as demo

# The demo's business story, from the detailed generator: one set of numbers.
REPS = len(demo.REPS)
SLOW_REP = int(demo.SLOW_REP.removeprefix("rep_"))
SOURCES = tuple((name, weight) for name, weight, _ in demo.SOURCES)
SEGMENTS = tuple(
    (segment.name, segment.weight, segment.dwell_mult, segment.median_amount_usd)
    for segment in demo.SEGMENTS
)
STALL_PROB, SLOW_REP_STALL_PROB = demo.STALL_PROB, demo.SLOW_REP_STALL_PROB
SLOW_REP_DWELL = sum(demo.SLOW_REP_DWELL_RANGE) / 2
MISSING_AMOUNT_SHARE = demo.MISSING_AMOUNT_SHARE
# What only this mode draws.
REGRESS_PROB, SKIP_PROB, DUPLICATE_PROB = 0.03, 0.05, 0.02


def read_pipeline(path: pathlib.Path) -> demo.Pipeline:
    """The stage configuration, read and checked as the detailed generator does."""
    return demo.Pipeline.from_rows(demo.read_stages(path))


def stage_table(pipeline: demo.Pipeline) -> str:
    """VALUES rows (position, stage_key, mean_days, lost_prob); position n_open is won."""
    rows = [
        f"({position}, '{key}', {pipeline.base_dwell_days(position)}::double,"
        f" {pipeline.lost_prob(position)}::double)"
        for position, key in enumerate(pipeline.open_keys)
    ]
    rows.append(f"({pipeline.n_open}, '{pipeline.won_key}', null, null)")
    return ", ".join(rows)


def pick(uniform: str, choices: Sequence[tuple[str, float]]) -> str:
    """SQL choosing a label by cumulative weight."""
    cases, total = [], 0.0
    for label, weight in choices[:-1]:
        total += weight
        cases.append(f"when {uniform} < {total} then '{label}'")
    return f"case {' '.join(cases)} else '{choices[-1][0]}' end"


def build_sql(
    leads: int, seed: int, start: date, months: int, pipeline: demo.Pipeline
) -> list[str]:
    won_key, lost_key = pipeline.won_key, pipeline.lost_keys[0]
    n_open = pipeline.n_open
    start_ts = f"timestamp '{start.isoformat()} 00:00:00'"
    end = date(
        start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1
    )
    period_seconds = (end - start).days * 86_400
    # A uniform number in [0, 1) for (lead, purpose): a hash, not a generator
    # state, so threads and chunking cannot change it.
    u = "((hash({seed}, leads.lead_no, {purpose}) % 1000000007) / 1000000007.0)"

    def uniform(purpose: str) -> str:
        return u.format(seed=seed, purpose=f"'{purpose}'")

    def uniform_at(purpose: str, position: str = "stages.position") -> str:
        return u.format(seed=seed, purpose=f"'{purpose}' || {position}")

    def skip_drawn(position: str) -> str:
        """Whether a skip is drawn at an open stage (never from the last one)."""
        drawn = f"{uniform_at('skip', position)} < {SKIP_PROB}"
        return f"({position} between 0 and {n_open - 2} and {drawn})"

    segment_pick = pick(uniform("segment"), [(name, weight) for name, weight, _, _ in SEGMENTS])
    segment_dwell = " ".join(f"when '{name}' then {mult}::double" for name, _, mult, _ in SEGMENTS)
    segment_amount = " ".join(
        f"when '{name}' then {median}::double" for name, _, _, median in SEGMENTS
    )
    return [
        "create or replace temp table stages as select * from"
        f" (values {stage_table(pipeline)})"
        " as t(position, stage_key, mean_days, lost_prob)",
        f"""
        create or replace temp table leads as
        select
            lead_no,
            'L' || lpad(cast(lead_no as varchar), 8, '0') as lead_id,
            {start_ts} + to_microseconds(
                cast(sqrt({uniform("created")}) * {period_seconds} * 1e6 as bigint)
            ) as created_at,
            {pick(uniform("source"), SOURCES)} as lead_source,
            {segment_pick} as segment,
            1 + cast(floor({uniform("owner")} * {REPS}) as integer) as rep
        from range(1, {leads} + 1) as leads(lead_no)
        """,
        # One row per lead x open stage: what happens when it leaves that stage.
        # A skip jumps over the next stage, which is then never entered (so
        # its own outcome does not count); two skips in a row are not drawn.
        f"""
        create or replace temp table walked as
        select
            leads.lead_no,
            stages.position,
            stages.mean_days
                * (case leads.segment {segment_dwell} end)
                * (case when leads.rep = {SLOW_REP} then {SLOW_REP_DWELL} else 1 end)
                * -ln(1 - {uniform_at("dwell")}) as dwell_days,
            case
                when {uniform_at("stall")} < case
                        when leads.rep = {SLOW_REP} then {SLOW_REP_STALL_PROB} else {STALL_PROB}
                    end then 'stall'
                when {uniform_at("lost")} < stages.lost_prob then 'lost'
                when stages.position > 0 and {uniform_at("regress")} < {REGRESS_PROB} then 'regress'
                when {skip_drawn("stages.position")}
                    and not {skip_drawn("stages.position - 1")} then 'skip'
                else 'advance'
            end as outcome,
            {skip_drawn("stages.position - 1")}
                and not {skip_drawn("stages.position - 2")} as is_skipped
        from leads
        cross join stages
        where stages.position < {n_open}
        """,
        f"""
        create or replace temp table path_ends as
        select
            lead_no,
            coalesce(min(position) filter (
                where not is_skipped and outcome in ('stall', 'lost', 'regress')
            ), {n_open}) as last_position
        from walked
        group by lead_no
        """,
        # Entering each stage on the path, at creation plus the dwell before it.
        f"""
        create or replace temp table events as
        with visited as (
            select walked.lead_no, walked.position, walked.dwell_days, walked.outcome
            from walked
            inner join path_ends on walked.lead_no = path_ends.lead_no
            where walked.position <= path_ends.last_position and not walked.is_skipped
        ),
        timed as (
            select
                *,
                coalesce(sum(dwell_days) over (
                    partition by lead_no order by position
                    rows between unbounded preceding and 1 preceding
                ), 0) as days_before
            from visited
        ),
        entries as (
            select lead_no, position, days_before as at_days from timed
            union all
            -- Reaching won: after the last open stage's dwell.
            select lead_no, {n_open} as position, days_before + dwell_days
            from timed
            where position = {n_open - 1} and outcome not in ('stall', 'lost', 'regress')
            union all
            -- Skipping from the last-but-one open stage straight to won.
            select lead_no, {n_open}, days_before + dwell_days
            from timed
            where position = {n_open - 2} and outcome = 'skip'
            union all
            select lead_no, -1 as position, days_before + dwell_days * 0.7
            from timed where outcome = 'lost'
            union all
            select lead_no, position - 1, days_before + dwell_days
            from timed where outcome = 'regress'
        )
        select
            entries.lead_no,
            case
                when entries.position = -1 then '{lost_key}' else stages.stage_key
            end as stage_key,
            leads.created_at + to_microseconds(cast(entries.at_days * 86400e6 as bigint))
                as entered_at
        from entries
        inner join leads on entries.lead_no = leads.lead_no
        left join stages on entries.position = stages.position
        where leads.created_at + to_microseconds(cast(entries.at_days * 86400e6 as bigint))
            < timestamp '{end} 00:00:00'
        """,
        f"""
        create or replace temp table raw_leads as
        select
            leads.lead_no,
            leads.lead_id,
            strftime(leads.created_at, '%Y-%m-%dT%H:%M:%SZ') as created_at,
            leads.created_at as happened_at,
            leads.lead_source,
            leads.segment,
            'rep_' || lpad(cast(leads.rep as varchar), 2, '0') as owner_id,
            case
                when won.lead_no is null
                    and {uniform("amount_missing")} < {MISSING_AMOUNT_SHARE} then ''
                -- Log-normal around the segment's median (Box-Muller).
                else cast(round((case leads.segment {segment_amount} end) * exp(
                    0.45 * sqrt(-2 * ln(1 - {uniform("amount_a")}))
                    * cos(2 * pi() * {uniform("amount_b")})
                ), 2) as varchar)
            end as deal_amount_usd
        from leads
        left join (select distinct lead_no from events where stage_key = '{won_key}') as won
            on leads.lead_no = won.lead_no
        """,
        f"""
        create or replace temp table raw_lead_transitions as
        with written as (
            select
                events.lead_no,
                leads.lead_id,
                events.stage_key,
                events.entered_at
            from events
            inner join leads on events.lead_no = leads.lead_no
        )
        select
            lead_no, lead_id, stage_key,
            strftime(entered_at, '%Y-%m-%dT%H:%M:%SZ') as entered_at,
            entered_at as happened_at, 0 as copy
        from written
        union all
        select lead_no, lead_id, stage_key, strftime(entered_at, '%Y-%m-%dT%H:%M:%SZ'),
            entered_at, 1
        from written
        where (hash({seed}, lead_no, stage_key, entered_at, 'duplicate') % 1000)
            < {DUPLICATE_PROB * 1000}
        """,
    ]


def split_parts(connection, increments: int, share: float) -> list[tuple[str, str]]:
    """(file label, SQL condition on happened_at) for the base and each increment: the
    increments hold the latest stage changes, share of the rows each."""
    if increments <= 0:
        return [("base", "true")]
    if not 0 < share * increments < 1:
        raise ValueError("increments x increment_share must be between 0 and 1")
    cutoffs = [
        connection.execute(
            f"select quantile_disc(happened_at, {1 - k * share}) from raw_lead_transitions"
        ).fetchone()[0]
        for k in range(increments, 0, -1)
    ]
    parts = [("base", f"happened_at < timestamp '{cutoffs[0]}'")]
    for number, low in enumerate(cutoffs, start=1):
        high = cutoffs[number] if number < len(cutoffs) else None
        where = f"happened_at >= timestamp '{low}'" + (
            f" and happened_at < timestamp '{high}'" if high else ""
        )
        parts.append((f"inc{number:02d}", where))
    return parts


def generate(
    out: pathlib.Path,
    leads: int,
    seed: int = 42,
    stages: pathlib.Path = pathlib.Path("seeds/config/pipeline_stages.csv"),
    start: date = date(2025, 1, 1),
    months: int = 20,
    file_format: str = "parquet",
    increments: int = 0,
    increment_share: float = 0.001,
    threads: int | None = None,
) -> dict[str, int]:
    """Write the raw exports into out; returns the row counts per file."""
    if file_format not in ("parquet", "csv"):
        raise ValueError("file_format must be parquet or csv")
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect() as connection:
        if threads:
            connection.execute(f"set threads = {int(threads)}")
        for statement in build_sql(leads, seed, start, months, read_pipeline(stages)):
            connection.execute(statement)
        parts = split_parts(connection, increments, increment_share)
        columns = {
            "raw_leads": "lead_id, created_at, lead_source, segment, owner_id, deal_amount_usd",
            "raw_lead_transitions": "lead_id, stage_key, entered_at",
        }
        order = {
            "raw_leads": "lead_no",
            "raw_lead_transitions": "lead_no, entered_at, stage_key, copy",
        }
        options = (
            "format parquet, compression zstd, row_group_size 1000000"
            if file_format == "parquet"
            else "format csv, header true"
        )
        for table, column_list in columns.items():
            for label, where in parts:
                name = (
                    f"{table}.{file_format}"
                    if len(parts) == 1
                    else f"{table}_{label}.{file_format}"
                )
                path = out / name
                # Ordered by lead, so the file's bytes do not depend on threads.
                connection.execute(
                    f"copy (select {column_list} from {table} where {where}"
                    f" order by {order[table]}) to '{path}' ({options})"
                )
                counts[name] = connection.execute(
                    f"select count(*) from {table} where {where}"
                ).fetchone()[0]
    return counts
