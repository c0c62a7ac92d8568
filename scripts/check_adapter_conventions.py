"""The project's conventions (dbt-bouncer.yml) on the CRM adapters' models.

The demo build's manifest, which make conventions checks, holds no CRM
adapter: models/staging/<crm>/ is enabled only with the var crm (env
PIPELINE_CRM). This parses the project once per adapter, with its default
loader, into target/bouncer_<crm>/ and runs dbt-bouncer with
dbt-bouncer.yml on that manifest and the catalog the last `dbt docs
generate` left in target/ (the demo's relations: the adapters' models are
parsed, not built, so the CRM's tables need not exist). Every adapter is
checked; the exit code is 1 when any fails.

    .venv/bin/python scripts/check_adapter_conventions.py [salesforce hubspot pipedrive]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CRMS = ("salesforce", "hubspot", "pipedrive")
# Settings that would change what the parse enables (macros/crm_adapters.sql,
# macros/raw_input.sql): each adapter is checked as its default loader lands
# the CRM's tables, with no pipeline chosen.
CLEARED_ENV = ("PIPELINE_CRM_LOADER", "PIPELINE_CRM_PIPELINE", "PIPELINE_CRM_SCHEMA")


def bouncer_config(artifacts: Path) -> str:
    """dbt-bouncer.yml reading its artifacts from the given folder."""
    config = (REPO / "dbt-bouncer.yml").read_text()
    # A JSON string is a YAML double-quoted scalar: any path is safe.
    config, count = re.subn(
        r"(?m)^dbt_artifacts_dir: .*$",
        lambda _: f"dbt_artifacts_dir: {json.dumps(str(artifacts))}",
        config,
    )
    if count != 1:
        raise SystemExit("dbt-bouncer.yml: expected one top-level dbt_artifacts_dir line")
    return config


def check(crm: str, catalog: Path) -> bool:
    """Parse the project with the CRM's adapter and run dbt-bouncer on it."""
    artifacts = REPO / "target" / f"bouncer_{crm}"
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV}
    env["PIPELINE_CRM"] = crm
    env.setdefault("DBT_PROFILES_DIR", str(REPO))
    print(
        f"conventions: the {crm} adapter (dbt parse into {artifacts.relative_to(REPO)})", flush=True
    )
    subprocess.run(
        [str(BIN / "dbt"), "parse", "--quiet", "--target-path", str(artifacts)],
        cwd=REPO,
        env=env,
        check=True,
    )
    shutil.copy(catalog, artifacts / "catalog.json")
    config = artifacts / "dbt-bouncer.yml"
    config.write_text(bouncer_config(artifacts))
    result = subprocess.run(
        [str(BIN / "dbt-bouncer"), "--config-file", str(config)], cwd=REPO, env=env
    )
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "crms", nargs="*", metavar="crm", help=f"one of {', '.join(CRMS)} (default: all)"
    )
    crms = parser.parse_args().crms or list(CRMS)
    if unknown := sorted(set(crms) - set(CRMS)):
        parser.error(f"not a CRM adapter: {', '.join(unknown)} (one of {', '.join(CRMS)})")
    catalog = REPO / "target" / "catalog.json"
    if not catalog.exists():
        print(
            f"{catalog.relative_to(REPO)} is missing: run dbt build and dbt docs generate first "
            "(make test does)",
            file=sys.stderr,
        )
        return 2
    failed = [crm for crm in crms if not check(crm, catalog)]
    if failed:
        print(
            f"conventions: the {', '.join(failed)} adapter(s) fail dbt-bouncer.yml", file=sys.stderr
        )
        return 1
    print(f"conventions: the {', '.join(crms)} adapters pass dbt-bouncer.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
