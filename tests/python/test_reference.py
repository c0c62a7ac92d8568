"""Self-checks of the Python reference implementation (tests/python/reference.py).

Expected values are worked out by hand from docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt

import pytest
from reference import (
    MART_COLUMNS,
    Visit,
    backtest_row,
    compute_marts,
    forecast_accuracy,
    forecast_dates,
    forecast_months,
    inflow_months,
    load_stages,
    not_yet_won,
    open_lead_chance,
    parse_timestamp,
    read_csv_rows,
    time_to_lose,
    time_to_win,
    won_curve,
)

D = dt.datetime

STAGES = [
    {
        "stage_key": "qualification",
        "stage_name": "Qualification",
        "stage_order": "1",
        "stage_type": "open",
        "default_expected_days": "10",
    },
    {
        "stage_key": "discovery",
        "stage_name": "Discovery",
        "stage_order": "2",
        "stage_type": "open",
        "default_expected_days": "20",
    },
    {
        "stage_key": "meeting",
        "stage_name": "Meeting",
        "stage_order": "3",
        "stage_type": "open",
        "default_expected_days": "",
    },
    {
        "stage_key": "proposal",
        "stage_name": "Proposal",
        "stage_order": "4",
        "stage_type": "open",
        "default_expected_days": None,
    },
    {
        "stage_key": "closed_won",
        "stage_name": "Closed won",
        "stage_order": "5",
        "stage_type": "won",
        "default_expected_days": None,
    },
    {
        "stage_key": "closed_lost",
        "stage_name": "Closed lost",
        "stage_order": "",
        "stage_type": "lost",
        "default_expected_days": None,
    },
]


def ev(lead: str, stage: str, at: str) -> dict:
    return {"lead_id": lead, "stage_key": stage, "entered_at": at}


def lead(lead_id: str, amount: str | None = None, owner: str = "u1") -> dict:
    return {
        "lead_id": lead_id,
        "created_at": "2024-01-01",
        "lead_source": "inbound",
        "segment": "smb",
        "owner_id": owner,
        "deal_amount_usd": amount,
    }


def run(events, leads=None, benchmarks=(), targets=(), as_of="2024-06-30", **kw):
    """Without leads, every lead of the events gets a row without created_at
    (stage changes count only for leads in raw_leads)."""
    events = list(events)
    if leads is None:
        leads = [
            {**lead(lead_id), "created_at": None}
            for lead_id in dict.fromkeys(e["lead_id"] for e in events)
        ]
    return compute_marts(
        list(leads),
        list(events),
        STAGES,
        list(benchmarks),
        list(targets),
        as_of_date=as_of,
        **kw,
    )


def conv(marts, stage):
    return next(r for r in marts["fct_stage_conversion"] if r["stage_key"] == stage)


def visits(marts, lead_id):
    return [r for r in marts["fct_lead_stage_visits"] if r["lead_id"] == lead_id]


# ---------------------------------------------------------------------------
# The guide's worked example (spec table)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guide():
    # as_of 2024-06-30 -> as_of_at 2024-07-01 00:00
    events = []
    for i in range(50):  # advance after exactly 30 days in qualification
        events += [
            ev(f"a{i}", "qualification", "2024-01-01"),
            ev(f"a{i}", "discovery", "2024-01-31"),
        ]
    for i in range(20):  # completed without advancing (lost)
        events += [
            ev(f"l{i}", "qualification", "2024-01-01"),
            ev(f"l{i}", "closed_lost", "2024-01-15"),
        ]
    for i in range(30):  # old: 61 days in stage > 60 expected
        events += [ev(f"o{i}", "qualification", "2024-05-01")]
    for i in range(5):  # in window: 10 days
        events += [ev(f"w{i}", "qualification", "2024-06-21")]
    benchmarks = [
        {
            "stage_key": "qualification",
            "benchmark_conversion_rate": "0.6",
            "benchmark_source": "guide",
        },
        {
            "stage_key": "discovery",
            "benchmark_conversion_rate": "0.0",
            "benchmark_source": "x",
        },
    ]
    return run(events, benchmarks=benchmarks)


def test_guide_expected_days_and_conversion(guide):
    q = conv(guide, "qualification")
    assert q["avg_days_to_advance"] == pytest.approx(30.0)
    assert q["expected_days_to_convert"] == pytest.approx(60.0)  # 2 x 30
    assert (
        q["leads_entered"],
        q["leads_advanced"],
        q["leads_completed"],
        q["leads_old"],
        q["leads_in_window"],
    ) == (105, 50, 70, 30, 5)
    assert q["conversion_rate"] == pytest.approx(0.5)  # 50 / (70 + 30)
    assert q["old_lead_share"] == pytest.approx(0.3)
    assert q["benchmark_conversion_rate"] == pytest.approx(0.6)
    assert q["benchmark_gap"] == pytest.approx(-0.1)
    assert q["diagnosis"] == "bandwidth"  # 0.3 > 0.25
    assert q["as_of_date"] == dt.date(2024, 6, 30)
    assert q["next_stage_key"] == "discovery" and q["stage_order"] == 1


def test_guide_default_expected_days_fallback(guide):
    d = conv(guide, "discovery")
    # no advanced discovery visit -> default 20 days (no factor); 50 leads sit 152 days
    assert d["avg_days_to_advance"] is None
    assert d["expected_days_to_convert"] == 20.0
    assert (
        d["leads_entered"],
        d["leads_advanced"],
        d["leads_completed"],
        d["leads_old"],
    ) == (50, 0, 0, 50)
    assert d["conversion_rate"] == 0.0
    assert d["diagnosis"] == "healthy"  # 0.0 >= 0.0
    m = conv(guide, "meeting")  # no history, no default -> null expected, empty cohort
    assert m["expected_days_to_convert"] is None and m["leads_entered"] == 0
    assert m["conversion_rate"] is None and m["old_lead_share"] is None and m["diagnosis"] is None


def test_guide_old_leads_report(guide):
    old = guide["rpt_old_leads"]
    q_old = [r for r in old if r["stage_key"] == "qualification"]
    d_old = [r for r in old if r["stage_key"] == "discovery"]
    assert len(q_old) == 30 and len(d_old) == 50
    r = next(r for r in q_old if r["lead_id"] == "o0")
    assert r["entered_at"] == D(2024, 5, 1)
    assert r["days_in_stage"] == pytest.approx(61.0)
    assert r["days_overdue"] == pytest.approx(1.0)
    assert r["is_likely_dead"] is False  # 1 <= 3 x 60
    assert r["owner_id"] == "u1"
    r = next(r for r in d_old if r["lead_id"] == "a0")
    assert r["days_in_stage"] == pytest.approx(152.0)  # Jan 31 -> Jul 1
    assert r["days_overdue"] == pytest.approx(132.0)
    assert r["is_likely_dead"] is True  # 132 > 3 x 20
    old_visits = [v for v in guide["fct_lead_stage_visits"] if v["is_old"]]
    assert len(old_visits) == 80


def test_columns_exact(guide):
    for mart, cols in MART_COLUMNS.items():
        for row in guide[mart]:
            assert list(row) == cols


# ---------------------------------------------------------------------------
# Working backwards from revenue (§5)
# ---------------------------------------------------------------------------


def funnel_events():
    """Every open stage converts at 50 %: 16 -> 8 -> 4 -> 2 -> 1 won."""
    stages = ["qualification", "discovery", "meeting", "proposal", "closed_won"]
    events, n, idx = [], 16, 0
    for depth in range(len(stages) - 1):
        for _i in range(n // 2):  # half lost at this stage
            lid = f"f{idx}"
            idx += 1
            for k in range(depth + 1):
                events.append(ev(lid, stages[k], f"2024-01-{k + 1:02d}"))
            events.append(ev(lid, "closed_lost", f"2024-01-{depth + 2:02d}"))
        n //= 2
    lid = "won1"
    for k, stage in enumerate(stages):
        events.append(ev(lid, stage, f"2024-01-{k + 1:02d}"))
    return events


def test_leads_needed_guide():
    amounts = {"won1": "25000", "f0": "99999"}  # the lost lead's amount is ignored
    leads = [lead(i, amounts.get(i)) for i in dict.fromkeys(e["lead_id"] for e in funnel_events())]
    targets = [
        {
            "target_month": "2024-07-01",
            "revenue_target_usd": "100000",
            "avg_deal_size_usd": "20000",
        },
        {
            "target_month": "2024-08-01",
            "revenue_target_usd": "100000",
            "avg_deal_size_usd": "",
        },
    ]
    m = run(funnel_events(), leads=leads, targets=targets)
    for s in ("qualification", "discovery", "meeting", "proposal"):
        assert conv(m, s)["conversion_rate"] == pytest.approx(0.5)
    july = {
        r["stage_key"]: r
        for r in m["fct_pipeline_plan"]
        if r["target_month"] == dt.date(2024, 7, 1)
    }
    assert {k: r["deals_needed"] for k, r in july.items()} == dict.fromkeys(july, 5)
    assert {k: r["leads_needed"] for k, r in july.items()} == {
        "proposal": 10,
        "meeting": 20,
        "discovery": 40,
        "qualification": 80,
    }
    assert july["qualification"]["cumulative_conversion_rate"] == pytest.approx(0.0625)
    assert july["proposal"]["leads_in_stage"] == 0 and july["proposal"]["lead_gap"] == 10
    aug = [r for r in m["fct_pipeline_plan"] if r["target_month"] == dt.date(2024, 8, 1)]
    assert all(r["avg_deal_size_usd"] == 25000.0 and r["deals_needed"] == 4 for r in aug)
    assert [r["stage_key"] for r in aug] == [
        "qualification",
        "discovery",
        "meeting",
        "proposal",
    ]


def test_deals_needed_rounding_and_nulls():
    targets = [
        {
            "target_month": "2024-07-01",
            "revenue_target_usd": "0.3",
            "avg_deal_size_usd": "0.1",
        }
    ]
    events = [
        ev("x", "qualification", "2024-06-01"),
        ev("x", "discovery", "2024-06-02"),
        ev("y", "meeting", "2024-06-01"),
    ]
    m = run(events, targets=targets)
    rows = {r["stage_key"]: r for r in m["fct_pipeline_plan"]}
    assert rows["qualification"]["deals_needed"] == 3  # 2.9999999999999996 -> 3, not 4
    # proposal has no cohort -> conversion null -> every cumulative product null
    assert all(
        r["cumulative_conversion_rate"] is None
        and r["leads_needed"] is None
        and r["lead_gap"] is None
        for r in rows.values()
    )
    assert rows["discovery"]["leads_in_stage"] == 1 and rows["meeting"]["leads_in_stage"] == 1
    assert rows["qualification"]["leads_in_stage"] == 0
    # no won lead and no avg given -> avg null -> deals null
    m = run(
        events,
        targets=[
            {
                "target_month": "2024-07-01",
                "revenue_target_usd": "1",
                "avg_deal_size_usd": None,
            }
        ],
    )
    assert all(
        r["avg_deal_size_usd"] is None and r["deals_needed"] is None for r in m["fct_pipeline_plan"]
    )


# ---------------------------------------------------------------------------
# §2 / §4 edge rules
# ---------------------------------------------------------------------------


def test_skip_counts_as_advancing():
    m = run([ev("s", "qualification", "2024-06-01"), ev("s", "meeting", "2024-06-03")])
    assert visits(m, "s")[0]["exit_type"] == "advanced"
    q = conv(m, "qualification")
    assert (q["leads_entered"], q["leads_advanced"], q["leads_completed"]) == (1, 1, 1)
    assert q["avg_days_to_advance"] == pytest.approx(2.0)
    assert conv(m, "discovery")["leads_entered"] == 0


def test_win_probability_follows_skips_and_regressions():
    """§5 by hand. Qualification's 10 leads: 4 into discovery, 2 straight
    into won, 4 lost (CR 0.6). Discovery's 4: two won, one lost, and one
    went back to qualification before it was won, which still counts as its
    first step up into won (CR 0.75). win_probability(discovery) = 3/4 x 1
    = 0.75; win_probability(qualification) = 4/10 x 0.75 + 2/10 x 1 = 0.5,
    where the product of the rates has no value (nobody reached meeting) and
    would be 0.45 without the later stages. 5 deals need 10 and 7 leads."""
    events = []
    for i in range(1, 5):  # a1..a4 into discovery
        events += [
            ev(f"a{i}", "qualification", "2024-06-01"),
            ev(f"a{i}", "discovery", "2024-06-02"),
        ]
    events += [ev("a1", "closed_won", "2024-06-03"), ev("a2", "closed_won", "2024-06-03")]
    events += [ev("a3", "closed_lost", "2024-06-03")]
    events += [ev("a4", "qualification", "2024-06-03"), ev("a4", "closed_won", "2024-06-04")]
    for i in range(1, 3):  # b1, b2 skip to won
        events += [
            ev(f"b{i}", "qualification", "2024-06-01"),
            ev(f"b{i}", "closed_won", "2024-06-05"),
        ]
    for i in range(1, 5):  # c1..c4 lost
        events += [
            ev(f"c{i}", "qualification", "2024-06-01"),
            ev(f"c{i}", "closed_lost", "2024-06-05"),
        ]
    targets = [
        {"target_month": "2024-07-01", "revenue_target_usd": "50", "avg_deal_size_usd": "10"}
    ]
    m = run(events, targets=targets)
    assert conv(m, "qualification")["conversion_rate"] == pytest.approx(0.6)
    assert conv(m, "discovery")["conversion_rate"] == pytest.approx(0.75)
    flows = {(r["stage_key"], r["to_stage_key"]): r for r in m["fct_stage_flow"]}
    assert {key: r["leads_advanced_to"] for key, r in flows.items()} == {
        ("qualification", "discovery"): 4,
        ("qualification", "closed_won"): 2,
        ("discovery", "closed_won"): 3,
    }
    assert flows[("qualification", "discovery")]["share_of_advanced"] == pytest.approx(4 / 6)
    assert flows[("qualification", "discovery")]["flow_rate"] == pytest.approx(0.4)
    plan = {r["stage_key"]: r for r in m["fct_pipeline_plan"]}
    assert plan["qualification"]["cumulative_conversion_rate"] is None
    assert plan["qualification"]["win_probability"] == pytest.approx(0.5)
    assert plan["discovery"]["win_probability"] == pytest.approx(0.75)
    assert plan["meeting"]["win_probability"] is None  # decided no lead
    assert (plan["qualification"]["leads_needed"], plan["discovery"]["leads_needed"]) == (10, 7)
    value = {r["stage_key"]: r for r in m["fct_pipeline_value"]}
    assert value["discovery"]["win_probability"] == plan["discovery"]["win_probability"]


def test_sales_cycle_starts_when_the_deal_was_created():
    """spec 8: w1 created 1 June, first change 11 June, won 21 June: 20 days.
    w2 without created_at: first change 5 June to the win on 6 June, 1 day.
    w3 created 2 June and won with its first change on 9 June: 7 days, not 0."""
    leads = [
        {**lead("w1"), "created_at": "2024-06-01"},
        {**lead("w2"), "created_at": None},
        {**lead("w3"), "created_at": "2024-06-02"},
    ]
    events = [
        ev("w1", "qualification", "2024-06-11"),
        ev("w1", "closed_won", "2024-06-21"),
        ev("w2", "qualification", "2024-06-05"),
        ev("w2", "closed_won", "2024-06-06"),
        ev("w3", "closed_won", "2024-06-09"),
    ]
    m = run(events, leads=leads)
    [overall] = [r for r in m["fct_win_rates"] if r["dimension"] == "overall"]
    assert overall["avg_sales_cycle_days"] == pytest.approx((20 + 1 + 7) / 3)
    assert overall["median_sales_cycle_days"] == pytest.approx(7)


def test_regression_completes_without_advancing():
    m = run(
        [
            ev("r", "qualification", "2024-06-01"),
            ev("r", "discovery", "2024-06-02"),
            ev("r", "qualification", "2024-06-05"),
        ]
    )
    v = visits(m, "r")
    assert [x["exit_type"] for x in v] == ["advanced", "regressed", "open"]
    d = conv(m, "discovery")
    assert (
        d["leads_entered"],
        d["leads_advanced"],
        d["leads_completed"],
        d["leads_old"],
    ) == (1, 0, 1, 0)
    assert d["conversion_rate"] == 0.0
    q = conv(m, "qualification")  # advanced after its first qualification visit
    assert (q["leads_advanced"], q["leads_completed"]) == (1, 1)


def test_old_is_strictly_greater():
    # no advanced qualification visit -> default 10 days; as_of_at = 2024-07-01 00:00
    m = run(
        [
            ev("eq", "qualification", "2024-06-21T00:00:00"),
            ev("gt", "qualification", "2024-06-20T23:59:59"),
        ]
    )
    q = conv(m, "qualification")
    assert (q["leads_old"], q["leads_in_window"], q["leads_completed"]) == (1, 1, 0)
    assert q["conversion_rate"] == 0.0  # 0 / (0 + 1)
    assert [r["lead_id"] for r in m["rpt_old_leads"]] == ["gt"]
    assert visits(m, "eq")[0]["is_old"] is False and visits(m, "gt")[0]["is_old"] is True
    assert visits(m, "eq")[0]["days_in_stage"] == 10.0


def test_exact_duplicates_counted_once():
    leads = [lead("d1", "100"), lead(" d1 ", "100.0")]  # identical after normalisation
    events = [
        ev("d1", "qualification", "2024-06-01"),
        ev("d1", " Qualification ", "2024-06-01T00:00:00Z"),
        ev("d1", "discovery", "2024-06-02"),
    ]
    m = run(events, leads=leads)
    v = visits(m, "d1")
    assert len(v) == 2 and v[0]["entered_at"] == D(2024, 6, 1)
    assert conv(m, "qualification")["leads_entered"] == 1


def test_same_stage_resaves_are_one_visit():
    m = run(
        [
            ev("x", "qualification", "2024-06-01"),
            ev("x", "qualification", "2024-06-03"),
            ev("x", "discovery", "2024-06-05"),
            ev("x", "discovery", "2024-06-06"),
        ]
    )
    v = visits(m, "x")
    assert [(r["stage_key"], r["visit_number"]) for r in v] == [
        ("qualification", 1),
        ("discovery", 2),
    ]
    assert v[0]["entered_at"] == D(2024, 6, 1) and v[0]["exited_at"] == D(2024, 6, 5)
    assert v[0]["dwell_days"] == pytest.approx(4.0) and v[0]["days_in_stage"] is None
    assert v[1]["entered_at"] == D(2024, 6, 5) and v[1]["exited_at"] is None
    assert v[1]["days_in_stage"] == pytest.approx(26.0) and v[1]["dwell_days"] is None


def test_tie_order_stage_order_then_lost_last():
    t = "2024-06-10 12:00:00"
    m = run(
        [
            ev("t", "closed_lost", t),
            ev("t", "discovery", t),
            ev("t", "qualification", t),
        ]
    )
    v = visits(m, "t")
    assert [r["stage_key"] for r in v] == ["qualification", "discovery", "closed_lost"]
    assert [r["exit_type"] for r in v] == ["advanced", "lost", "open"]
    assert v[0]["dwell_days"] == 0.0 and v[1]["next_stage_key"] == "closed_lost"


def test_reopened_lead():
    m = run(
        [
            ev("z", "qualification", "2024-06-01"),
            ev("z", "closed_lost", "2024-06-02"),
            ev("z", "qualification", "2024-06-29"),
        ]
    )
    v = visits(m, "z")
    assert [r["exit_type"] for r in v] == ["lost", "reopened", "open"]
    assert [r["visit_number"] for r in v] == [1, 2, 3]
    q = conv(m, "qualification")  # current stage is qualification again: undecided
    assert (q["leads_completed"], q["leads_old"], q["leads_in_window"]) == (0, 0, 1)
    assert v[2]["days_in_stage"] == pytest.approx(2.0)


def test_as_of_cutoff_and_default():
    events = [
        ev("c", "qualification", "2024-06-01"),
        ev("c", "discovery", "2024-06-15T23:30:00-01:00"),
    ]
    # default as_of = UTC date of latest event = 2024-06-16 (23:30 -01:00 = 00:30Z next day)
    m = run(events, as_of=None)
    assert conv(m, "qualification")["as_of_date"] == dt.date(2024, 6, 16)
    assert len(visits(m, "c")) == 2
    # explicit as_of 2024-06-15 drops the 2024-06-16 00:30Z event
    m = run(events, as_of="2024-06-15")
    v = visits(m, "c")
    assert (
        len(v) == 1 and v[0]["exit_type"] == "open" and v[0]["days_in_stage"] == pytest.approx(15.0)
    )


def test_business_time_zone_day_and_dst():
    """New York moves to EDT (UTC-4) at 02:00 on 10 March 2024. The latest
    event, 03:30 UTC on 11 March, is 23:30 EDT on the 10th, which ends at
    04:00 UTC on the 11th; c has waited since 10:00 UTC on the 1st."""
    events = [
        ev("c", "qualification", "2024-03-01T10:00:00Z"),
        ev("d", "qualification", "2024-03-11T03:30:00Z"),
    ]
    m = run(events, as_of=None, business_time_zone="America/New_York")
    assert conv(m, "qualification")["as_of_date"] == dt.date(2024, 3, 10)
    assert visits(m, "c")[0]["days_in_stage"] == pytest.approx(9 + 18 / 24)
    assert visits(m, "d")[0]["days_in_stage"] == pytest.approx(0.5 / 24)


def test_cohort_month_in_business_time_zone():
    """Created at 03:00 UTC on 1 March is 22:00 EST on 28 February."""
    leads = [{**lead("a"), "created_at": "2024-03-01T03:00:00Z"}]
    m = run(
        [ev("a", "qualification", "2024-03-02")], leads=leads, business_time_zone="America/New_York"
    )
    months = {r["cohort_month"] for r in m["fct_cohort_conversion"]}
    assert months == {dt.date(2024, 2, 1)}
    m = run([ev("a", "qualification", "2024-03-02")], leads=leads)
    assert {r["cohort_month"] for r in m["fct_cohort_conversion"]} == {dt.date(2024, 3, 1)}


def test_a_date_alone_is_a_business_day():
    """spec 1: in New York, created_at 2025-03-01 is March's cohort (05:00
    UTC), and a change on 2025-03-31 counts as of 31 March (04:00 UTC, EDT);
    read as UTC midnight they fell in February and on 30 March. In Tokyo,
    2025-04-01 is 15:00 UTC on 31 March, still April's cohort there."""
    leads = [{**lead("a"), "created_at": "2025-03-01"}]
    events = [ev("a", "qualification", "2025-03-02"), ev("a", "discovery", "2025-03-31")]
    m = run(events, leads=leads, as_of=None, business_time_zone="America/New_York")
    assert {r["cohort_month"] for r in m["fct_cohort_conversion"]} == {dt.date(2025, 3, 1)}
    assert conv(m, "qualification")["as_of_date"] == dt.date(2025, 3, 31)
    assert visits(m, "a")[1]["entered_at"] == dt.datetime(2025, 3, 31, 4)
    tokyo = [{**lead("b"), "created_at": "2025-04-01"}]
    m = run(
        [ev("b", "qualification", "2025-04-01")],
        leads=tokyo,
        as_of=None,
        business_time_zone="Asia/Tokyo",
    )
    assert {r["cohort_month"] for r in m["fct_cohort_conversion"]} == {dt.date(2025, 4, 1)}
    assert visits(m, "b")[0]["entered_at"] == dt.datetime(2025, 3, 31, 15)
    assert conv(m, "qualification")["as_of_date"] == dt.date(2025, 4, 1)


def test_no_transitions_all_empty():
    m = run(
        [],
        as_of=None,
        targets=[
            {
                "target_month": "2024-07-01",
                "revenue_target_usd": "1",
                "avg_deal_size_usd": "1",
            }
        ],
    )
    assert m == {k: [] for k in MART_COLUMNS} | {"leads_without_exchange_rate": []}


def test_lead_attributes_normalised():
    leads = [
        {
            "lead_id": " L1 ",
            "created_at": "2024-01-01T00:00:00Z",
            "lead_source": " Inbound ",
            "segment": "SMB",
            "owner_id": " u7 ",
            "deal_amount_usd": "",
        }
    ]
    m = run([ev("L1", "QUALIFICATION", "2024-06-01")], leads=leads)
    v = visits(m, "L1")[0]
    assert (v["stage_key"], v["owner_id"], v["lead_source"], v["segment"]) == (
        "qualification",
        "u7",
        "inbound",
        "smb",
    )


def test_timestamp_parsing():
    assert parse_timestamp("2024-01-01T02:00:00+02:00") == D(2024, 1, 1)
    assert parse_timestamp("2024-01-01 00:00:00Z") == D(2024, 1, 1)
    assert parse_timestamp("2023-12-31T19:00:00-0500") == D(2024, 1, 1)
    assert parse_timestamp("2024-01-01T00:00:00.25") == D(2024, 1, 1, 0, 0, 0, 250000)
    assert parse_timestamp("2024-01-01") == D(2024, 1, 1)
    assert parse_timestamp("  ") is None


def test_read_csv_rows(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("\ufefflead_id,stage_key\nA,\n".encode("utf-8"))
    assert read_csv_rows(str(path)) == [{"lead_id": "A", "stage_key": None}]


def test_diagnosis_thresholds():
    # qualification: default expected 10 days. 1 lost (completed), old share varies.
    bench = [
        {
            "stage_key": "qualification",
            "benchmark_conversion_rate": "0.9",
            "benchmark_source": "",
        }
    ]
    base = [ev(f"l{i}", "qualification", "2024-06-01") for i in range(19)]
    base += [ev(f"l{i}", "closed_lost", "2024-06-02") for i in range(19)]
    # 0 old of 19 -> share 0 < 0.05
    assert conv(run(base, benchmarks=bench), "qualification")["diagnosis"] == "standards_too_strict"
    # 1 old of 20 -> share 0.05: neither < 0.05 nor > 0.25
    one_old = [*base, ev("o", "qualification", "2024-06-01")]
    assert conv(run(one_old, benchmarks=bench), "qualification")["diagnosis"] == "below_benchmark"
    many_old = base + [ev(f"o{i}", "qualification", "2024-06-01") for i in range(7)]  # 7/26 > 0.25
    assert conv(run(many_old, benchmarks=bench), "qualification")["diagnosis"] == "bandwidth"


def test_stage_changes_count_only_for_accepted_leads_after_creation():
    leads = [
        {**lead("ok"), "created_at": "2024-06-01T08:00:00Z"},
        {**lead("bad_created"), "created_at": "01/06/2024"},
        lead("conflict"),
        lead("conflict", owner="u2"),
        lead("negative", "-1"),
    ]
    events = [
        ev("ok", "qualification", "2024-06-01T09:59:59+02:00"),  # 07:59:59 UTC: before creation
        ev("ok", "discovery", "2024-06-01T08:00:00Z"),  # at creation: counts
        ev("orphan", "qualification", "2024-06-02"),
        ev("bad_created", "qualification", "2024-06-02"),
        ev("conflict", "qualification", "2024-06-02"),
        ev("negative", "qualification", "2024-06-02"),
    ]
    m = run(events, leads=leads)
    assert [(v["lead_id"], v["stage_key"]) for v in m["fct_lead_stage_visits"]] == [
        ("ok", "discovery")
    ]


def test_dates_after_the_build_are_in_the_future_and_never_the_as_of_date():
    """Built on 2024-06-30 at noon with a day's tolerance: the cutoff is
    2024-07-01 12:00. A change at the cutoff counts; one a second later, a
    typo in 2052 and a lead created after the cutoff are left out, so the
    default as-of date is the cutoff's day, not 2052's."""
    leads = [lead("a"), lead("b"), {**lead("late"), "created_at": "2024-07-01T12:00:01Z"}]
    events = [
        ev("a", "qualification", "2024-06-01"),
        ev("a", "discovery", "2024-07-01T12:00:00Z"),
        ev("b", "qualification", "2024-07-01T12:00:01Z"),
        ev("b", "discovery", "2052-01-15"),
        ev("late", "qualification", "2024-07-01T12:00:01Z"),
    ]
    m = run(events, leads=leads, as_of=None, build_started_at=dt.datetime(2024, 6, 30, 12))
    assert conv(m, "qualification")["as_of_date"] == dt.date(2024, 7, 1)
    assert [(v["lead_id"], v["stage_key"]) for v in m["fct_lead_stage_visits"]] == [
        ("a", "qualification"),
        ("a", "discovery"),
    ]
    m = run(
        events,
        leads=leads,
        as_of=None,
        build_started_at=dt.datetime(2024, 6, 30, 12),
        future_tolerance_days=0,
    )
    assert conv(m, "qualification")["as_of_date"] == dt.date(2024, 6, 1)


def test_configured_timestamp_format():
    leads = [{**lead("L1"), "created_at": "01/06/2024"}]
    events = [ev("L1", "qualification", "02/06/2024"), ev("L1", "discovery", "2024-06-03")]
    m = run(events, leads=leads, input_timestamp_format="%d/%m/%Y")
    assert [(v["stage_key"], v["entered_at"]) for v in visits(m, "L1")] == [
        ("qualification", D(2024, 6, 2))
    ]
    assert parse_timestamp("02/06/2024 10:00 +0200", "%d/%m/%Y %H:%M %z") == D(2024, 6, 2, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01t10:00z", D(2025, 3, 1, 10)),
        ("2025-03-01T10:00:00+0530", D(2025, 3, 1, 4, 30)),
        ("2025-03-01 10:00", D(2025, 3, 1, 10)),
        ("2025-03-01T24:00:00", None),
        ("2025-03-01Z", None),
        ("2025-03-01 10:00:00 Z", None),
        ("2025-3-1", None),
    ],
)
def test_timestamp_grammar(text: str, expected: dt.datetime | None):
    """The ISO-8601 shapes exports write (macros/parse_utc_timestamp.sql)."""
    if expected is None:
        with pytest.raises(ValueError):
            parse_timestamp(text)
    else:
        assert parse_timestamp(text) == expected


# ---------------------------------------------------------------------------
# Several pipelines (section 1, revision of 2026-12-05)
# ---------------------------------------------------------------------------

TWO_PIPELINES = [
    {"pipeline_id": "p", "pipeline_name": "Inbound", "stage_key": "a", "stage_order": "1",
     "stage_type": "open"},
    {"pipeline_id": "p", "pipeline_name": "", "stage_key": "p_won", "stage_order": "2",
     "stage_type": "won"},
    {"pipeline_id": "p", "stage_key": "p_lost", "stage_type": "lost"},
    {"pipeline_id": "q", "stage_key": "b", "stage_order": "1", "stage_type": "open"},
    {"pipeline_id": "q", "stage_key": "q_won", "stage_order": "2", "stage_type": "won"},
]  # fmt: skip


def test_two_pipelines_each_lead_in_the_pipeline_it_started_in():
    """L1 is won in p; L2 starts in q, so its later change into p's stage a
    does not count; L3 enters p's a and q's b at the same instant: p sorts
    first. q's overall target is its own; p has a name on one row, q none."""
    events = [
        ev("L1", "a", "2024-01-01"),
        ev("L1", "p_won", "2024-01-05"),
        ev("L2", "b", "2024-01-02"),
        ev("L2", "a", "2024-01-03"),
        ev("L3", "b", "2024-01-04"),
        ev("L3", "a", "2024-01-04"),
    ]
    leads = [{**lead(lead_id), "created_at": None} for lead_id in ("L1", "L2", "L3")]
    targets = [
        {"pipeline_id": "q", "target_month": "2024-07-01", "revenue_target_usd": "100"},
        {"target_month": "2024-07-01", "revenue_target_usd": "999"},
    ]
    marts = compute_marts(leads, events, TWO_PIPELINES, [], targets, as_of_date="2024-06-30")
    by_lead = {
        (row["lead_id"], row["stage_key"]): row["pipeline_id"]
        for row in marts["fct_lead_stage_visits"]
    }
    assert by_lead == {
        ("L1", "a"): "p",
        ("L1", "p_won"): "p",
        ("L2", "b"): "q",
        ("L3", "a"): "p",
    }
    stage_a = next(r for r in marts["fct_stage_conversion"] if r["stage_key"] == "a")
    assert (stage_a["leads_entered"], stage_a["leads_advanced"]) == (2, 1)
    assert stage_a["pipeline_name"] == "Inbound"
    stage_b = next(r for r in marts["fct_stage_conversion"] if r["stage_key"] == "b")
    assert (stage_b["leads_entered"], stage_b["pipeline_name"]) == (1, "q")
    overall = {
        row["pipeline_id"]: (row["leads_won"], row["leads_decided"])
        for row in marts["fct_win_rates"]
        if row["dimension"] == "overall"
    }
    assert overall == {"p": (1, 1), "q": (0, 0)}
    # The overall target is split between neither: only q's own is planned.
    assert {(r["pipeline_id"], r["revenue_target_usd"]) for r in marts["fct_pipeline_plan"]} == {
        ("q", 100.0)
    }


# ---------------------------------------------------------------------------
# §17 Revenue forecast and its backtest
# ---------------------------------------------------------------------------

DAY_US = 86_400_000_000  # a day in microseconds


FORECAST_STAGES = [
    {"stage_key": "s", "stage_order": "1", "stage_type": "open", "default_expected_days": ""},
    {"stage_key": "w", "stage_order": "2", "stage_type": "won", "default_expected_days": ""},
    {"stage_key": "l", "stage_order": "", "stage_type": "lost", "default_expected_days": ""},
]


def lead_visits(*steps: tuple[str, dt.datetime]) -> list[Visit]:
    return [Visit("x", stage, number, entered) for number, (stage, entered) in enumerate(steps, 1)]


def test_forecast_won_and_lost_curves_and_chance_of_the_spec_example():
    """§17's example, from visits as of 1 July (as_of_at of 30 June): won
    deals took 10, 20 and 40 days, one visit is still open at 30 days, lost
    deals took 5 and 25 days. W is 1 up to 10 days (strictly after u only),
    3/4, 1/2, then 0; L (the won visits left out, the open one censored at
    30 days) is 1, 2/3 after 5 (n = 3), 1/3 after 25 (n = 2). A lead aged
    25 days at the end of a month, p = 0.5, a 30-day month ahead (t1 = 25,
    t2 = 55 days): chance 0.5 x (1/2 - 0) / (0.5 x 1/2 + 0.5 x 2/3) = 3/7
    (L(25) = 2/3: the loss at 25 days has not passed yet); in the month
    after it (t1 = 55 days) 0."""
    stages = load_stages(FORECAST_STAGES)
    jan = D(2024, 1, 1)
    days = dt.timedelta(days=1)
    by_lead = {
        "W10": lead_visits(("s", jan), ("w", jan + 10 * days)),
        "W20": lead_visits(("s", jan), ("w", jan + 20 * days)),
        "W40": lead_visits(("s", jan), ("w", jan + 40 * days)),
        "L5": lead_visits(("s", jan), ("l", jan + 5 * days)),
        "L25": lead_visits(("s", jan), ("l", jan + 25 * days)),
        "O": lead_visits(("s", D(2024, 6, 1))),
    }
    instant = D(2024, 7, 1)
    won_observations = time_to_win(by_lead, stages, "s", instant)
    lost_observations = time_to_lose(by_lead, stages, "s", instant)
    assert sorted(won_observations) == [
        (10 * DAY_US, True),
        (20 * DAY_US, True),
        (30 * DAY_US, False),
        (40 * DAY_US, True),
    ]
    assert sorted(lost_observations) == [
        (5 * DAY_US, True),
        (25 * DAY_US, True),
        (30 * DAY_US, False),
    ]
    won = won_curve(won_observations)
    lost = won_curve(lost_observations)
    assert not_yet_won(won, 0) == 1
    assert not_yet_won(won, 10 * DAY_US) == 1  # u < t: not yet at t = 10 days
    assert not_yet_won(won, 10 * DAY_US + 1) == pytest.approx(3 / 4)
    assert not_yet_won(won, 20 * DAY_US) == pytest.approx(3 / 4)
    assert not_yet_won(won, 25 * DAY_US) == pytest.approx(1 / 2)
    assert not_yet_won(won, 40 * DAY_US) == pytest.approx(1 / 2)
    assert not_yet_won(won, 55 * DAY_US) == 0
    assert not_yet_won(lost, 5 * DAY_US) == 1
    assert not_yet_won(lost, 5 * DAY_US + 1) == pytest.approx(2 / 3)
    assert not_yet_won(lost, 25 * DAY_US) == pytest.approx(2 / 3)
    assert not_yet_won(lost, 25 * DAY_US + 1) == pytest.approx(1 / 3)
    assert not_yet_won(lost, 55 * DAY_US) == pytest.approx(1 / 3)  # censored at 30: not 0
    age = 25 * DAY_US
    assert open_lead_chance(0.5, won, lost, age, age, 55 * DAY_US) == pytest.approx(3 / 7)
    assert open_lead_chance(0.5, won, lost, age, 55 * DAY_US, 85 * DAY_US) == 0
    # Another p: 0.8 x 1/2 / (0.8 x 1/2 + 0.2 x 2/3) = 0.4 / (8/15) = 3/4.
    assert open_lead_chance(0.8, won, lost, age, age, 55 * DAY_US) == pytest.approx(3 / 4)
    # Aged 12 days, a window from 12 to 22 days: 0.5 x (3/4 - 1/2) / (0.5 x
    # 3/4 + 0.5 x 2/3) = 0.125 / (17/24) = 3/17.
    chance = open_lead_chance(0.5, won, lost, 12 * DAY_US, 12 * DAY_US, 22 * DAY_US)
    assert chance == pytest.approx(3 / 17)
    # No probability: no chance.
    assert open_lead_chance(None, won, lost, age, age, 55 * DAY_US) is None


def test_forecast_chance_with_a_denominator_of_0():
    """A deal won at 10 days and one lost at 5, nothing open: W = 0 after
    10 days and L = 0 after 5. A lead aged 11 days: p x W(11) + (1 - p) x
    L(11) = 0 for every p, so its chance is 0 (not a division error); p = 1
    with W(a) = 0, or p = 0 with L(a) = 0, is 0 too. At 7 days (W = 1,
    L = 0) p = 0.5 gives 0.5 x (1 - 0) / (0.5 x 1 + 0) = 1."""
    won = won_curve([(10 * DAY_US, True)])
    lost = won_curve([(5 * DAY_US, True)])
    for p in (0.0, 0.5, 1.0):
        assert open_lead_chance(p, won, lost, 11 * DAY_US, 11 * DAY_US, 40 * DAY_US) == 0
    assert open_lead_chance(1.0, won, [], 11 * DAY_US, 11 * DAY_US, 40 * DAY_US) == 0
    assert open_lead_chance(0.0, [], lost, 6 * DAY_US, 6 * DAY_US, 40 * DAY_US) == 0
    assert open_lead_chance(0.5, won, lost, 7 * DAY_US, 7 * DAY_US, 40 * DAY_US) == 1


def test_forecast_won_and_lost_observations_of_each_visit():
    """Which visits of s are W and L events, censored or left out, as of
    1 July: a lead lost, then reopened and open at D is censored in both
    (each of its visits of s at its own age); a lead won, then lost is a W
    event and left out of L; a lead lost twice gives an L event per visit
    at its own next loss; a lead won, then reopened and open at D is a W
    event and censored in L (the lead is open at D); a loss after D is
    still open at D; a visit entered after D is no observation."""
    stages = load_stages(FORECAST_STAGES)
    jan = D(2024, 1, 1)
    instant = D(2024, 7, 1)
    days = dt.timedelta(days=1)
    since_jan = 182 * DAY_US  # 1 January to 1 July 2024
    cases = {
        "lost, reopened": (
            lead_visits(("s", jan), ("l", jan + 2 * days), ("s", D(2024, 6, 21))),
            [(since_jan, False), (10 * DAY_US, False)],
            [(since_jan, False), (10 * DAY_US, False)],
        ),
        "won, then lost": (
            lead_visits(("s", jan), ("w", jan + 4 * days), ("l", jan + 7 * days)),
            [(4 * DAY_US, True)],
            [],
        ),
        "lost twice": (
            lead_visits(
                ("s", jan), ("l", jan + 2 * days), ("s", jan + 10 * days), ("l", jan + 15 * days)
            ),
            [],
            [(2 * DAY_US, True), (5 * DAY_US, True)],
        ),
        "won, reopened": (
            lead_visits(("s", jan), ("w", jan + 4 * days), ("s", D(2024, 6, 26))),
            [(4 * DAY_US, True), (5 * DAY_US, False)],
            [(since_jan, False), (5 * DAY_US, False)],
        ),
        "lost after D": (
            lead_visits(("s", D(2024, 6, 1)), ("l", D(2024, 7, 5))),
            [(30 * DAY_US, False)],
            [(30 * DAY_US, False)],
        ),
        "after D": (lead_visits(("s", D(2024, 7, 2))), [], []),
    }
    for name, (lead_visits_, won, lost) in cases.items():
        by_lead = {name: lead_visits_}
        assert time_to_win(by_lead, stages, "s", instant) == won, name
        assert time_to_lose(by_lead, stages, "s", instant) == lost, name


def test_forecast_months_dates_and_inflow_window():
    """Months ahead start with the month of D + 1 day (the rest of it for a
    mid-month date); the inflow window is the three months before it; the
    forecast dates are the history's month ends before the as-of date."""
    mid = forecast_months(dt.date(2024, 6, 15), "UTC")
    assert [(m.month, m.start, m.end, m.days) for m in mid] == [
        (dt.date(2024, 6, 1), D(2024, 6, 16), D(2024, 7, 1), 15),
        (dt.date(2024, 7, 1), D(2024, 7, 1), D(2024, 8, 1), 31),
        (dt.date(2024, 8, 1), D(2024, 8, 1), D(2024, 9, 1), 31),
    ]
    assert [m.month for m in inflow_months(dt.date(2024, 6, 15), "UTC")] == [
        dt.date(2024, 3, 1),
        dt.date(2024, 4, 1),
        dt.date(2024, 5, 1),
    ]
    assert [m.month for m in inflow_months(dt.date(2024, 6, 30), "UTC")] == [
        dt.date(2024, 4, 1),
        dt.date(2024, 5, 1),
        dt.date(2024, 6, 1),
    ]
    # Months turn at the business time zone's midnight (New York: EDT, then EST).
    (november, *_) = forecast_months(dt.date(2024, 10, 31), "America/New_York")
    assert (november.start, november.end, november.days) == (
        D(2024, 11, 1, 4),
        D(2024, 12, 1, 5),
        30,
    )
    assert forecast_dates(dt.date(2024, 7, 15), dt.date(2024, 5, 31)) == [
        dt.date(2024, 5, 31),
        dt.date(2024, 6, 30),
        dt.date(2024, 7, 15),
    ]


def forecast_scenario() -> tuple[list[dict], list[dict]]:
    """One open stage s. Won deals took 10 and 20 days (won in January) and
    40 days (won 10 April, $2,000); three leads lost after 4 days. Open at
    the end of June: T (owner u1, $1,000) aged 26 days and C (u2, $3,000)
    aged 30. As of 2024-06-30: p(s) = 3 won / 6 decided = 0.5 (T and C in
    window: the limit is 2 x 70/3 days); W has events at 10, 20, 40 days and
    T and C censored at 26 and 30: W = 1, 4/5, 3/5, 0; L has the three
    events at 4 days (n = 5: the won visits left out) and T and C censored:
    L = 1, then 2/5."""
    leads = [
        lead("T", "1000", "u1"),
        lead("C", "3000", "u2"),
        lead("W10", "500"),
        lead("W20"),
        lead("W40", "2000"),
        *(lead(f"L{i}") for i in range(3)),
    ]
    events = [
        ev("W10", "s", "2024-01-01"),
        ev("W10", "w", "2024-01-11"),
        ev("W20", "s", "2024-01-01"),
        ev("W20", "w", "2024-01-21"),
        ev("W40", "s", "2024-03-01"),
        ev("W40", "w", "2024-04-10"),
        *(
            e
            for i in range(3)
            for e in (ev(f"L{i}", "s", "2024-01-01"), ev(f"L{i}", "l", "2024-01-05"))
        ),
        ev("T", "s", "2024-06-05"),
        ev("C", "s", "2024-06-01"),
    ]
    return leads, events


def test_revenue_forecast_open_pipeline_and_new_leads():
    """As of 2024-06-30. Open pipeline: T and C each have chance
    0.5 x (3/5 - 0) / (0.5 x 3/5 + 0.5 x 2/5) = 3/5 in July (W(26) = W(30)
    = 3/5, L = 2/5; no won deal took 57 or 61 days) and 0 after. New leads:
    T and C are the inflow (first visits in April to June, 91 days): 2/91 a
    day, 62/91 leads in July and in August, 60/91 in September. A lead
    created mid-month j is won in month j with chance
    0.5 x (1 - W(15.5 or 15 days)) = 0.1, in month j + 1 with
    0.5 x (4/5 - 0) = 0.4, later 0 (no conditioning: L plays no part).
    Their amount is the mean won in the inflow window: W40's $2,000."""
    leads, events = forecast_scenario()
    marts = compute_marts(leads, events, FORECAST_STAGES, [], [], as_of_date="2024-06-30")
    rows = {
        (r["months_ahead"], r["forecast_source"], r["owner_id"]): r
        for r in marts["fct_revenue_forecast"]
    }
    assert len(rows) == len(marts["fct_revenue_forecast"]) == 9
    for row in marts["fct_revenue_forecast"]:
        assert list(row) == MART_COLUMNS["fct_revenue_forecast"]
        assert (row["as_of_date"], row["stage_key"], row["stage_order"]) == (
            dt.date(2024, 6, 30),
            "s",
            1,
        )
        assert (row["pipeline_id"], row["reporting_currency"]) == ("default", "USD")
    expected = {
        (1, "open_pipeline", "u1"): (1.0, 3 / 5, 600.0),
        (1, "open_pipeline", "u2"): (1.0, 3 / 5, 1800.0),
        (1, "new_leads", None): (62 / 91, 62 / 91 * 0.1, 62 / 91 * 0.1 * 2000),
        (2, "open_pipeline", "u1"): (1.0, 0.0, 0.0),
        (2, "open_pipeline", "u2"): (1.0, 0.0, 0.0),
        (2, "new_leads", None): (62 / 91, 62 / 91 * 0.5, 62 / 91 * 0.5 * 2000),
        (3, "open_pipeline", "u1"): (1.0, 0.0, 0.0),
        (3, "open_pipeline", "u2"): (1.0, 0.0, 0.0),
        (3, "new_leads", None): (
            60 / 91,
            (62 * 0.4 + 60 * 0.1) / 91,
            (62 * 0.4 + 60 * 0.1) / 91 * 2000,
        ),
    }
    for key, (leads_, deals, amount) in expected.items():
        row = rows[key]
        assert row["leads"] == pytest.approx(leads_), key
        assert row["expected_won_deals"] == pytest.approx(deals), key
        assert row["expected_won_amount"] == pytest.approx(amount), key
    assert rows[1, "new_leads", None]["forecast_month"] == dt.date(2024, 7, 1)
    assert rows[3, "new_leads", None]["forecast_month"] == dt.date(2024, 9, 1)
    # Nothing of a mid-year as-of date is backtested yet for a month not ended.
    assert all(r["as_of_date"] < dt.date(2024, 6, 30) for r in marts["fct_forecast_backtest"])


def test_forecast_without_a_win_probability():
    """As of 2 January nobody has left s: p(s) is empty, so its five open
    leads are counted with no chance (deals 0, amount empty); no first
    visit in October to December: no new-lead rows."""
    leads, events = forecast_scenario()
    marts = compute_marts(leads, events, FORECAST_STAGES, [], [], as_of_date="2024-01-02")
    rows = marts["fct_revenue_forecast"]
    assert [(r["months_ahead"], r["forecast_source"], r["owner_id"]) for r in rows] == [
        (k, "open_pipeline", "u1") for k in (1, 2, 3)
    ]
    assert [(r["leads"], r["expected_won_deals"], r["expected_won_amount"]) for r in rows] == [
        (5.0, 0.0, None)
    ] * 3
    assert rows[0]["forecast_month"] == dt.date(2024, 1, 1)


def test_forecast_backtest_and_accuracy():
    """The same leads, T won on 10 July; built as of 2024-07-31 with the
    history from 2024-06-01, so the one past forecast date is 2024-06-30 and
    only its July is over. July's actual: T, $1,000. Model: stage s 3/5 +
    3/5 deals, $600 + $1,800; the pipeline adds the new leads' 62/91 x 0.1
    deals and x $2,000. Weighted pipeline: p = 0.5 for T and C (not old):
    1 deal, $2,000. Last three months (April to June): W40, 1/3 deal a
    month, $2,000 / 3."""
    leads, events = forecast_scenario()
    events.append(ev("T", "w", "2024-07-10"))
    marts = compute_marts(
        leads, events, FORECAST_STAGES, [], [], as_of_date="2024-07-31", history_start="2024-06-01"
    )
    rows = {(r["forecast_method"], r["stage_key"]): r for r in marts["fct_forecast_backtest"]}
    assert len(rows) == len(marts["fct_forecast_backtest"]) == 4
    for row in marts["fct_forecast_backtest"]:
        assert list(row) == MART_COLUMNS["fct_forecast_backtest"]
        assert (row["as_of_date"], row["forecast_month"], row["months_ahead"]) == (
            dt.date(2024, 6, 30),
            dt.date(2024, 7, 1),
            1,
        )
        assert (row["actual_won_deals"], row["actual_won_amount"]) == (1, 1000.0)
    new_deals = 62 / 91 * 0.1
    expected = {
        ("model", "s"): (1.2, 2400.0),
        ("model", None): (1.2 + new_deals, 2400.0 + new_deals * 2000),
        ("weighted_pipeline", None): (1.0, 2000.0),
        ("last_3_months_average", None): (1 / 3, 2000 / 3),
    }
    for key, (deals, amount) in expected.items():
        row = rows[key]
        assert row["forecast_won_deals"] == pytest.approx(deals), key
        assert row["forecast_won_amount"] == pytest.approx(amount), key
        assert row["error_amount"] == pytest.approx(amount - 1000), key
        assert row["absolute_percentage_error"] == pytest.approx(abs(amount - 1000) / 1000), key
    accuracy = {r["forecast_method"]: r for r in marts["rpt_forecast_accuracy"]}
    assert list(accuracy) == ["model", "weighted_pipeline", "last_3_months_average"]
    for method, row in accuracy.items():
        assert list(row) == MART_COLUMNS["rpt_forecast_accuracy"]
        amount = expected[method, None][1]
        assert (row["months_ahead"], row["months_compared"]) == (1, 1)
        assert row["mean_absolute_percentage_error"] == pytest.approx(abs(amount - 1000) / 1000)
        assert row["bias"] == pytest.approx((amount - 1000) / 1000)


def test_forecast_accuracy_mape_and_bias():
    """Months with an actual amount are compared: errors +500 on $1,000 and
    -1,000 on $2,000 give MAPE (0.5 + 0.5) / 2 = 0.5 and bias -500 / 3,000;
    a month with nothing won has no percentage error and is left out."""
    month = forecast_months(dt.date(2024, 6, 30), "UTC")[0]
    backtest = [
        {
            **backtest_row(dt.date(2024, 6, 30), month, 1, "model", None, forecast, actual),
            "pipeline_id": "p",
            "pipeline_name": "P",
        }
        for forecast, actual in (
            ((2.0, 1500.0), (1, 1000.0)),
            ((1.0, 1000.0), (2, 2000.0)),
            ((0.5, 300.0), (0, 0.0)),
        )
    ]
    assert [r["absolute_percentage_error"] for r in backtest] == [0.5, 0.5, None]
    assert [r["error_amount"] for r in backtest] == [500.0, -1000.0, 300.0]
    (row,) = forecast_accuracy(backtest)
    assert row == {
        "pipeline_id": "p",
        "pipeline_name": "P",
        "forecast_method": "model",
        "months_ahead": 1,
        "months_compared": 2,
        "mean_absolute_percentage_error": pytest.approx(0.5),
        "bias": pytest.approx(-500 / 3000),
    }
