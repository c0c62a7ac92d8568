"""The page's words: each label a sales leader reads (a card, a column, a
verdict's number) is a term here, with the mart column it shows. Its
definition is that column's description in the dbt docs, which
persist_docs writes into the warehouse as a comment (queries.read_definitions):
the docs are the one source of the words, shown on hover and in the page's
glossary."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# term: (the label on the page, "mart.column" whose description defines it).
TERMS: dict[str, tuple[str, str]] = {
    "stage": ("Stage", "dim_stages.stage_name"),
    "leads_entered": ("Entered", "fct_stage_conversion.leads_entered"),
    "leads_advanced": ("Moved on", "fct_stage_conversion.leads_advanced"),
    "leads_completed": (
        "Left the stage (moved on or lost)",
        "fct_stage_conversion.leads_completed",
    ),
    "leads_old": ("Stalled", "fct_stage_conversion.leads_old"),
    "leads_in_window": ("Still in time", "fct_stage_conversion.leads_in_window"),
    "conversion_rate": ("Conversion", "fct_stage_conversion.conversion_rate"),
    "benchmark": ("Benchmark", "fct_stage_conversion.benchmark_conversion_rate"),
    "expected_days": ("Expected days", "fct_stage_conversion.expected_days_to_convert"),
    "diagnosis": ("What it means", "fct_stage_conversion.diagnosis"),
    "win_rate": ("Win rate", "fct_win_rates.win_rate"),
    "leads_won": ("Won", "fct_win_rates.leads_won"),
    "leads_decided": ("Decided (won or lost)", "fct_win_rates.leads_decided"),
    "avg_won_deal": ("Average won deal", "fct_win_rates.avg_won_deal_usd"),
    "sales_cycle": ("Sales cycle (days)", "fct_win_rates.avg_sales_cycle_days"),
    "pipeline": ("Open pipeline", "fct_pipeline_value.pipeline_usd"),
    "leads_open": ("Open leads", "fct_pipeline_value.leads_open"),
    "weighted_pipeline": ("Weighted pipeline", "fct_pipeline_value.weighted_pipeline_usd"),
    "coverage": ("Coverage", "fct_pipeline_value.coverage_ratio"),
    "weighted_coverage": ("Weighted coverage", "fct_pipeline_value.weighted_coverage_ratio"),
    "velocity": ("Pipeline velocity", "fct_pipeline_value.pipeline_velocity_usd_per_day"),
    "revenue_target": ("Revenue target", "fct_pipeline_plan.revenue_target_usd"),
    "deals_needed": ("Won deals needed", "fct_pipeline_plan.deals_needed"),
    "leads_needed": ("Leads needed", "fct_pipeline_plan.leads_needed"),
    "lead_gap": ("Leads short", "fct_pipeline_plan.lead_gap"),
    "forecast_deals": ("Expected won deals", "fct_revenue_forecast.expected_won_deals"),
    "forecast_amount": ("Expected won amount", "fct_revenue_forecast.expected_won_amount"),
    "forecast_source": ("Where the wins come from", "fct_revenue_forecast.forecast_source"),
    "forecast_method": ("Method", "rpt_forecast_accuracy.forecast_method"),
    "months_ahead": ("Months ahead", "rpt_forecast_accuracy.months_ahead"),
    "months_compared": ("Months compared", "rpt_forecast_accuracy.months_compared"),
    "forecast_error": ("Mean error", "rpt_forecast_accuracy.mean_absolute_percentage_error"),
    "forecast_bias": ("Bias", "rpt_forecast_accuracy.bias"),
    "dimension_conversion": ("Conversion", "fct_stage_conversion_by_dimension.conversion_rate"),
    "dimension_stalled": ("Stalled", "fct_stage_conversion_by_dimension.leads_old"),
    "rep": ("Rep", "rpt_old_leads.owner_id"),
    "lead_source": ("Source", "rpt_old_leads.lead_source"),
    "segment": ("Segment", "rpt_old_leads.segment"),
    "lead": ("Lead", "rpt_old_leads.lead_id"),
    "entered_at": ("In the stage since", "rpt_old_leads.entered_at"),
    "days_in_stage": ("Days in stage", "rpt_old_leads.days_in_stage"),
    "days_overdue": ("Days overdue", "rpt_old_leads.days_overdue"),
    "deal_amount": ("Deal amount", "rpt_old_leads.deal_amount_reporting"),
    "likely_dead": ("Likely dead", "rpt_old_leads.is_likely_dead"),
}
# Said when a warehouse has no comment for a term's column (built before
# the docs were persisted).
NO_DEFINITION = "No description in this warehouse: rebuild it (make build) to write the docs."


def definition_html(text: str) -> str:
    """A description as HTML: escaped, its `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


@dataclass
class Glossary:
    """The terms with their definitions from one warehouse; collects the
    terms a page uses, for the glossary at its end."""

    definitions: dict[str, str]

    def __post_init__(self) -> None:
        self.used: list[str] = []

    def definition(self, term: str) -> str:
        return self.definitions.get(TERMS[term][1]) or NO_DEFINITION

    def label(self, term: str, text: str | None = None) -> str:
        """The term's label (or text, the same term in other words), with
        its definition on hover and a link to its glossary entry."""
        if term not in self.used:
            self.used.append(term)
        shown = html.escape(text if text is not None else TERMS[term][0])
        hover = html.escape(re.sub(r"`([^`]+)`", r"\1", self.definition(term)))
        return f'<span class="term" data-term="{term}" title="{hover}">{shown}</span>'

    def section(self) -> str:
        """The glossary: every term the page used, in TERMS' order."""
        entries = "".join(
            f'<dt id="term-{term}">{html.escape(label)}</dt>'
            f"<dd>{definition_html(self.definition(term))} "
            f'<span class="source">marts.{html.escape(column)}</span></dd>'
            for term, (label, column) in TERMS.items()
            if term in self.used
        )
        return (
            '<section id="glossary"><h2>What the words mean</h2>'
            '<p class="sub">Each definition is the mart column\'s description in the '
            f"project's docs (docs/metrics.md has the formulas).</p><dl>{entries}</dl></section>"
        )
