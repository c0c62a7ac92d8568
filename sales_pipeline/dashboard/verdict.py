"""The verdict at the top of a pipeline's section: for the next target
month, on track or not, in a leader's words. Every number in it is a mart's
(fct_revenue_forecast's month, fct_pipeline_plan's target, deals and leads,
rpt_forecast_accuracy's error, fct_stage_conversion's stalled leads and
fct_pipeline_value's amount they hold), links
to the section that explains it, and carries its exact value in data-value
(data-metric names it) for a test or a script to read."""

from __future__ import annotations

import html

from sales_pipeline.dashboard.formats import count, money, percent
from sales_pipeline.dashboard.queries import PipelineData

# A month-ahead forecast error (mean absolute %) above this is called rough.
ROUGH_FORECAST_ERROR = 0.5


def number(text: str, value: object, metric: str, section: str, suffix: str) -> str:
    """A number of the verdict: a link to its section, its value in data-value."""
    raw = "" if value is None else str(value)
    return (
        f'<a class="number" href="#{section}{suffix}" data-metric="{metric}" '
        f'data-value="{html.escape(raw)}">{html.escape(text)}</a>'
    )


def month_forecast(data: PipelineData) -> dict[str, object] | None:
    """The forecast of the target month, else of the first month ahead."""
    months = data.forecast.months.rows
    for row in months:
        if data.target_month and row["forecast_month"] == data.target_month:
            return row
    return months[0] if months else None


def verdict_html(data: PipelineData, suffix: str = "") -> str:
    """The headline and three to four sentences; each says why when a mart
    has nothing to say (no target, no amounts, nothing open)."""
    forecast = month_forecast(data)
    plan = data.plan.rows
    target = plan[0]["revenue_target_usd"] if plan else None
    amount = forecast["won_amount"] if forecast else None

    def usd(value: object) -> str:
        return money(value, data.currency)

    if forecast is None:
        headline = "Nothing to forecast yet"
        sentences = [
            "No lead is open and none was created in the last three months: the forecast "
            "fills as leads come in (make build on a newer export)."
        ]
        return render(headline, "unknown", sentences + stalled_sentences(data, suffix), suffix)
    month = f"{forecast['forecast_month']:%B %Y}"
    deals = number(
        f"about {forecast['won_deals']:.1f}", forecast["won_deals"], "forecast_won_deals",
        "forecast", suffix,
    )  # fmt: skip
    sources = (
        f"{forecast['open_pipeline_deals']:.1f} from today's open pipeline, "
        f"{forecast['new_leads_deals']:.1f} from leads not created yet"
    )
    if target is not None and amount is not None:
        on_track = amount >= target
        state = "on-track" if on_track else "short"
        headline = (
            f"On track for {month}'s target"
            if on_track
            else f"About {usd(target - amount)} short of {month}'s target"
        )
        first = (
            f"<b>Forecast:</b> "
            f"{number(usd(amount), amount, 'forecast_won_amount', 'forecast', suffix)} "
            f"from {deals} won deals ({sources}), against a target of "
            f"{number(usd(target), target, 'revenue_target_usd', 'plan', suffix)}."
        )
    elif amount is None:
        state, headline = "unknown", f"{month}: {forecast['won_deals']:.1f} won deals expected"
        first = (
            f"<b>Forecast:</b> {deals} won deals ({sources}). The export has no deal "
            "amounts, so they cannot be set against a revenue target: add the amount column "
            "(deal_amount_usd, or the CRM's amount field) to see it in money."
        )
    else:
        state, headline = "unknown", f"{month}: {usd(amount)} expected, no target to compare"
        first = (
            f"<b>Forecast:</b> "
            f"{number(usd(amount), amount, 'forecast_won_amount', 'forecast', suffix)} "
            f"from {deals} won deals ({sources}). There is no revenue target for {month}: "
            "add one to revenue_targets.csv in config_path to see whether that is enough."
        )
    sentences = [first]
    accuracy = next(
        (
            row
            for row in data.forecast.accuracy
            if row["forecast_method"] == "model" and row["months_ahead"] == 1
        ),
        None,
    )
    error = accuracy["mean_absolute_percentage_error"] if accuracy else None
    if error is not None:
        compared = accuracy["months_compared"]
        rough = ": read it as a rough guide" if error > ROUGH_FORECAST_ERROR else ""
        sentences.append(
            "<b>Trust:</b> made a month before, this forecast was off by "
            f"{number(percent(error), error, 'forecast_error', 'forecast', suffix)} on average "
            f"over the past {count(compared)} months{rough}."
        )
    sentences += plan_sentences(data, forecast, suffix) + stalled_sentences(data, suffix)
    return render(headline, state, sentences, suffix)


def plan_sentences(data: PipelineData, forecast: dict[str, object], suffix: str) -> list[str]:
    """Where the target falls short at today's conversion: the stage with
    the largest share of its needed leads missing (fct_pipeline_plan); and
    why the forecast can reach the target with fewer deals than the plan's."""
    plan = [row for row in data.plan.rows if row["leads_needed"]]
    if not plan:
        return []
    needed, average = plan[0]["deals_needed"], plan[0]["avg_deal_size_usd"]
    deals = number(count(needed), needed, "deals_needed", "plan", suffix)
    by_count = (
        f"<b>Plan:</b> the target takes {deals} won deals at the average won deal of "
        f"{money(average, data.currency)}"
    )
    amount, expected = forecast["won_amount"], forecast["won_deals"]
    larger = (
        f" The forecast reaches the target with fewer, larger deals "
        f"({money(amount / expected, data.currency)} each on average)."
        if amount is not None
        and expected
        and expected < needed
        and amount >= plan[0]["revenue_target_usd"]
        else ""
    )
    short = [row for row in plan if (row["lead_gap"] or 0) > 0]
    if not short:
        return [f"{by_count}, and every stage holds the leads for them.{larger}"]
    worst = max(short, key=lambda row: (row["lead_gap"] / row["leads_needed"], -row["stage_order"]))
    names = {stage["stage_key"]: stage["stage_name"] for stage in data.stages}
    where = (
        "every stage is" if len(short) == len(plan) else f"{len(short)} of {len(plan)} stages are"
    )
    have, need = worst["leads_in_stage"], worst["leads_needed"]
    stage = html.escape(str(names.get(worst["stage_key"])))
    return [
        f"{by_count}; at today's conversion {where} short of leads for them, most of all {stage}: "
        f"{number(count(have), have, 'leads_in_stage', 'plan', suffix)} open of the "
        f"{number(count(need), need, 'leads_needed', 'plan', suffix)} it needs.{larger}"
    ]


def stalled_sentences(data: PipelineData, suffix: str) -> list[str]:
    """The stalled leads, and the stage holding most of them (fct_stage_conversion)."""
    if not data.old_lead_count:
        return [
            "<b>Stalled:</b> no lead has stalled: every open lead is within its stage's "
            "expected days."
        ]
    worst = max(data.stages, key=lambda stage: (stage["leads_old"] or 0, -stage["stage_order"]))
    total = number(count(data.old_lead_count), data.old_lead_count, "leads_old", "todo", suffix)
    held = (data.pipeline_total or {}).get("old_pipeline_usd")
    if data.has_amounts and held is not None:
        amount = number(money(held, data.currency), held, "old_pipeline_usd", "todo", suffix)
        total += f" leads holding {amount}"
    else:
        total += " leads"
    stalled = worst["leads_old"]
    in_worst = number(count(stalled), stalled, "stage_leads_old", "todo", suffix)
    return [
        f"<b>Stalled:</b> {total} have stalled past their stage's expected days, most in "
        f"{html.escape(str(worst['stage_name']))} ({in_worst}): the reps' to-do list has "
        "them, the ones worth saving first."
    ]


def render(
    headline: str,
    state: str,
    sentences: list[str],
    suffix: str,
) -> str:
    """sentences are HTML already."""
    items = "".join(f"<li>{sentence}</li>" for sentence in sentences)
    return (
        f'<div class="verdict {state}" id="verdict{suffix}" data-state="{state}">'
        f'<p class="headline">{html.escape(headline)}</p><ul>{items}</ul></div>'
    )
