"""Map a real CRM export into the warehouse's raw input files and config seeds.

Usage::

    python scripts/map_crm_exports.py {salesforce|pipedrive} --source <export folder> --out <folder>

Writes the raw exports and config seeds into --out (never into the export
folder) and prints the mapping report: rows read, written and deliberately
not mapped, with the reason; exits 1 when a row is unaccounted for. How
each CRM's rows map: sales_pipeline/crm_exports.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# The repository's root, for the sales_pipeline package, wherever this runs from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sales_pipeline.crm_exports import (
    PIPEDRIVE_WON_STAGE,
    MappingReport,
    map_pipedrive,
    map_salesforce,
)

MAPPERS: dict[str, Callable[[Path, Path], MappingReport]] = {
    "salesforce": map_salesforce,
    "pipedrive": map_pipedrive,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("crm", choices=tuple(MAPPERS))
    parser.add_argument("--source", type=Path, required=True, help="the export folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the files")
    parser.add_argument(
        "--won-stage",
        help=f"pipedrive only: the name of the won stage (default {PIPEDRIVE_WON_STAGE!r})",
    )
    args = parser.parse_args(argv)
    if args.won_stage is not None and args.crm != "pipedrive":
        parser.error("--won-stage applies to pipedrive only")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.out.resolve() == args.source.resolve():
        raise SystemExit("--out must not be the export folder")
    if args.won_stage is not None:
        report = map_pipedrive(args.source, args.out, won_stage=args.won_stage)
    else:
        report = MAPPERS[args.crm](args.source, args.out)
    print("\n".join(report.lines()))
    return 1 if any(report.unaccounted().values()) else 0


if __name__ == "__main__":
    sys.exit(main())
