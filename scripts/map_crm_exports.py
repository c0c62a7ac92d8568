"""Map a real Salesforce export into the warehouse's raw input files and config seeds.

Usage::

    python scripts/map_crm_exports.py salesforce --source <export folder> --out <folder>

Writes the raw exports and config seeds into --out (never into the export
folder) and prints the mapping report: rows read, written and deliberately
not mapped, with the reason; exits 1 when a row is unaccounted for. How the
rows map: sales_pipeline/crm_exports.py.

A Pipedrive export (deal_changes.csv + stages.csv) is not mapped here: it is
landed as the Pipedrive adapter's tables by ``python -m
sales_pipeline.crm_export_tables pipedrive --source <export folder>
--warehouse <file>`` and built with the adapter (vars crm: pipedrive,
crm_loader: export, crm_won_stage), which does its mapping
(docs/own-data.md, "Real CRM exports").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# The repository's root, for the sales_pipeline package, wherever this runs from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sales_pipeline.crm_exports import map_salesforce


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="A Pipedrive export is landed as its adapter's tables instead: "
        "python -m sales_pipeline.crm_export_tables pipedrive --source <export folder> "
        "--warehouse <file> (docs/own-data.md).",
    )
    parser.add_argument("crm", choices=("salesforce",))
    parser.add_argument("--source", type=Path, required=True, help="the export folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the files")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.out.resolve() == args.source.resolve():
        raise SystemExit("--out must not be the export folder")
    report = map_salesforce(args.source, args.out)
    print("\n".join(report.lines()))
    return 1 if any(report.unaccounted().values()) else 0


if __name__ == "__main__":
    sys.exit(main())
