"""The export files a team drops under raw_path: listed, and each one
inspected before the loader lands it (sales_pipeline.load).

- list_folder: one dict per entry of the folder (not its subfolders): what
  the warehouse makes of it by its name (an export to read, refused,
  ignored, configuration, or waiting: written less than settle_seconds ago,
  so perhaps still being written), with its size and modification time;
- inspect_file: how to read a file (read_csv options, column names, row
  count), or the problems that keep it from being read, each in plain words
  with the line where it can be known.

Bytes (compression, encoding, binary data) are checked here in Python, the
CSV structure by DuckDB's own reader with the exact options the loader
reads the file with, in a private in-memory DuckDB: a file passes only if
that reader reads every line of it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import hashlib
import re
import time
import zlib
from pathlib import Path

import duckdb

# The columns each raw export must have (any order; others are ignored).
RAW_COLUMNS = {
    "raw_leads": ["lead_id", "created_at", "lead_source", "segment", "owner_id", "deal_amount_usd"],
    "raw_lead_transitions": ["lead_id", "stage_key", "entered_at"],
}
# An export file's name starts with its raw table's (any case): the longer
# name first, so raw_lead_transitions* is never taken for raw_lead*.
EXPORT_TABLES = ("raw_lead_transitions", "raw_leads")
CONFIG_FILES = (
    "pipeline_stages.csv",
    "stage_benchmarks.csv",
    "revenue_targets.csv",
    "exchange_rates.csv",
)
# Tried in this order on the header line; exports use all of them.
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODINGS = ("utf-8", "latin-1", "utf-16")
# DuckDB's CSV reader refuses longer lines (its max_line_size default).
MAX_LINE_BYTES = 2_000_000
PROBLEM_LINES_SHOWN = 5
FOLDER_REASON = "a folder: only files directly in raw_path are read"
NOT_AN_EXPORT_REASON = (
    "not an export: the name starts with neither raw_leads nor raw_lead_transitions"
)
CHUNK_BYTES = 1 << 20

# --- the folder -----------------------------------------------------------------


def list_folder(
    raw_path: str,
    raw_format: str | None,
    config_path: str | None,
    settle_seconds: float | None = None,
) -> list[dict]:
    """Every entry of raw_path, sorted by name, with what its name makes it.

    status: export (read, once inspected), refused (its name says export
    but it is not a format the warehouse reads), ignored (not an export, or
    an export of the other raw_format), configuration (a configuration file
    read from config_path, when that is the same folder), waiting (an
    export modified less than settle_seconds ago: an upload or copy may
    still be writing it, so the next build reads it).
    """
    folder = Path(raw_path)
    if not folder.is_dir():
        return [entry(folder.name, folder, status="refused", reason=missing_folder(folder))]
    raw_format = (raw_format or "csv").lower()
    same_folder_config = bool(config_path) and _same_folder(Path(config_path), folder)
    try:
        paths = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as error:
        reason = f"raw_path {folder} cannot be listed: {error.strerror or first_line(error)}"
        return [entry(folder.name, folder, status="refused", reason=reason)]
    entries = [classify(path, raw_format, same_folder_config) for path in paths]
    now = time.time()
    for item, path in zip(entries, paths, strict=True):
        if item["status"] == "export" and settle_seconds:
            age = now - path.stat().st_mtime
            if 0 <= age < settle_seconds:
                item["status"] = "waiting"
                item["reason"] = waiting_reason(age, settle_seconds)
    return entries


def waiting_reason(age: float, settle_seconds: float) -> str:
    return (
        f"written {age:.1f} s ago, less than export_settle_seconds ({settle_seconds:g}): "
        "left for the next build, in case it is still being written"
    )


def missing_folder(folder: Path) -> str:
    if folder.exists():
        return f"raw_path {folder} is a file, not a folder of export files"
    return f"raw_path {folder} does not exist"


def classify(path: Path, raw_format: str, same_folder_config: bool) -> dict:
    name = path.name
    lower = name.lower()
    raw_table = next((table for table in EXPORT_TABLES if lower.startswith(table)), None)
    if not is_utf8(name):
        # DuckDB holds text as UTF-8: the name is shown with its odd bytes escaped.
        return entry(
            shown_name(name),
            path,
            raw_table=raw_table,
            status="refused" if raw_table else "ignored",
            reason=(
                "is not read: its name is not UTF-8 text (the bytes shown as \\x..); "
                "rename the file"
            ),
        )
    if path.is_symlink():
        # A link could point anywhere on the machine (and the build echoes a
        # bad file's first line): only files that are in raw_path are read.
        return entry(
            name,
            path,
            raw_table=raw_table,
            status="refused" if raw_table else "ignored",
            reason=(
                "is a symbolic link"
                + ("" if path.exists() else " to nothing (the file it named is gone)")
                + ": links are not followed; copy or move the file itself into raw_path"
            ),
        )
    if not path.is_file():
        return entry(name, path, status="ignored", reason=FOLDER_REASON)
    file_format = file_format_of(lower)
    if raw_table is None:
        if same_folder_config and lower in CONFIG_FILES:
            return entry(
                name,
                path,
                file_format=file_format,
                status="configuration",
                reason="configuration, read through config_path",
            )
        return entry(
            name, path, file_format=file_format, status="ignored", reason=NOT_AN_EXPORT_REASON
        )
    if file_format is None:
        return entry(
            name,
            path,
            raw_table=raw_table,
            status="refused",
            reason=unreadable_extension(lower),
        )
    family = "parquet" if file_format == "parquet" else "csv"
    if family != raw_format:
        kind = "a Parquet file" if family == "parquet" else "a CSV file"
        return entry(
            name,
            path,
            raw_table=raw_table,
            file_format=file_format,
            status="ignored",
            reason=f"{kind}, and raw_format is {raw_format}: set raw_format: {family}",
        )
    return entry(name, path, raw_table=raw_table, file_format=file_format, status="export")


def entry(name, path: Path, *, raw_table=None, file_format=None, status, reason=None) -> dict:
    size = modified = None
    if not path.is_symlink() and path.is_file():
        stat = path.stat()
        size = stat.st_size
        modified = modified_at(stat.st_mtime_ns)
    return {
        "file_name": name,
        "file_path": shown_name(str(path)),
        "raw_table": raw_table,
        "file_format": file_format,
        "status": status,
        "reason": reason,
        "file_size_bytes": size,
        "file_modified_at": modified,
    }


def is_utf8(text: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python keeps them as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(text: str) -> str:
    """A name as UTF-8 text: bytes that are not UTF-8 shown as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def modified_at(mtime_ns: int) -> dt.datetime:
    """The modification time in UTC, to the microsecond (a TIMESTAMP's precision)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=mtime_ns // 1000)


def file_format_of(lower_name: str) -> str | None:
    if lower_name.endswith(".csv.gz"):
        return "csv.gz"
    if lower_name.endswith(".csv"):
        return "csv"
    if lower_name.endswith(".parquet"):
        return "parquet"
    return None


def unreadable_extension(lower_name: str) -> str:
    """Why an export named like this is not read, to follow its name."""
    suffix = Path(lower_name).suffix
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        return "is a spreadsheet: save it as CSV (UTF-8), or export the CRM table as CSV"
    if suffix in (".zip", ".gz", ".bz2", ".xz", ".zst", ".7z"):
        return "is an archive: of compressed files, only gzip-compressed CSV (.csv.gz) is read"
    shown = f"the extension {suffix}" if suffix else "no extension"
    return f"has {shown}: CSV files end .csv or .csv.gz, Parquet files .parquet"


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# --- one file ----------------------------------------------------------------------


def stat_of(path: str) -> tuple[int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def inspect_file(
    path: str, file_format: str, required: list[str], encoding: str, optional: tuple[str, ...] = ()
) -> dict:
    """How to read the file, or its problems.

    Returns {"problems": [...]} when it cannot be read, else {"problems": [],
    "read_options": ..., "columns": [...], "row_count": n}. For CSV,
    read_options are the read_csv options to read it with and columns the
    file's columns in order, each required one under its own name (the
    header's name trimmed and lower-cased), each optional one present too,
    and every other one as extra_<position>; for Parquet, columns are the file's name of each
    required column, in the order asked. A file without rows needs no
    reading (no options).
    """
    if not Path(path).is_file():
        return {"problems": ["does not exist"]}
    if encoding not in ENCODINGS:
        return {"problems": [f"input_encoding '{encoding}' is not one of {', '.join(ENCODINGS)}"]}
    if file_format == "parquet":
        return inspect_parquet(path, required)
    return inspect_csv(path, file_format == "csv.gz", required, encoding, optional)


def inspect_parquet(path: str, required: list[str]) -> dict:
    with open(path, "rb") as handle:
        head = handle.read(8)
        size = handle.seek(0, 2)
        handle.seek(max(size - 4, 0))
        tail = handle.read(4)
    if size == 0:
        return {"problems": ["is empty (0 bytes), not a Parquet file"]}
    if head.startswith(b"PAR1") and tail != b"PAR1":
        return {
            "problems": [
                f"is a damaged or incomplete Parquet file ({size:,} bytes): it starts as one but "
                "does not end with PAR1 (cut short while copied or still being written?); "
                "copy it again"
            ]
        }
    if not (head.startswith(b"PAR1") and tail == b"PAR1"):
        kind = kind_of_bytes(head)
        what = f"it is {kind}" if kind else "it does not start and end with PAR1"
        return {"problems": [f"is not a Parquet file: {what}"]}
    with private_duckdb() as connection:
        try:
            names = [
                row[0]
                for row in connection.execute(
                    "select column_name from (describe select * from read_parquet(?))", [path]
                ).fetchall()
            ]
            row_count = connection.execute(
                "select count(*) from read_parquet(?)", [path]
            ).fetchall()[0][0]
        except duckdb.Error as error:
            return {"problems": [f"is not a readable Parquet file: {first_line(error)}"]}
    by_name = {}
    for name in names:
        by_name.setdefault(normalise(name), name)
    missing = [column for column in required if column not in by_name]
    if missing:
        return {
            "problems": [
                f"has the wrong columns: {', '.join(required)} are required; it has "
                f"{', '.join(names) or 'none'} (missing {', '.join(missing)})"
            ]
        }
    columns = [by_name[column] for column in required]
    return {"problems": [], "read_options": "", "columns": columns, "row_count": row_count}


def inspect_csv(
    path: str, gzipped: bool, required: list[str], encoding: str, optional: tuple[str, ...] = ()
) -> dict:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if gzipped and not head.startswith(b"\x1f\x8b"):
        kind = kind_of_bytes(head)
        return {
            "problems": [
                "is named .gz but is not gzip-compressed"
                + (f": it is {kind}" if kind else "")
                + "; name plain CSV text .csv"
            ]
        }
    if not gzipped and head.startswith(b"\x1f\x8b"):
        return {"problems": [f"is gzip-compressed but named .csv: name it {Path(path).name}.gz"]}
    try:
        head, encoding_problem = scan_text(path, gzipped, encoding)
    except (OSError, EOFError, zlib.error) as error:
        return {"problems": [f"has damaged gzip data: {first_line(error)}"]}
    not_text = not_csv_text(head, encoding)
    if not_text:
        return {"problems": [not_text]}
    if encoding_problem:
        return {"problems": [encoding_problem]}
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text.strip():
        return {"problems": [], "row_count": 0}
    header = text.splitlines()[0]
    delimiter, columns, header_problem = read_header(header, required, optional)
    if header_problem:
        return {"problems": [header_problem]}
    return structure(path, gzipped, encoding, delimiter, columns)


def scan_text(path: str, gzipped: bool, encoding: str) -> tuple[bytes, str | None]:
    """Reads the file once, to its end or its first line whose bytes are not
    text in the encoding: its first bytes, and that line's problem (a message)."""
    opener = gzip.open if gzipped else open
    decoder = codecs.getincrementaldecoder(encoding)()
    head = b""
    lines_before = 0
    problem = None
    with opener(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            problem = encoding_problem(decoder, chunk, encoding, lines_before)
            if problem is not None:
                break
            lines_before += chunk.count(b"\n")
    return head, problem


def encoding_problem(decoder, chunk: bytes, encoding: str, lines_before: int) -> str | None:
    if encoding == "latin-1":
        # DuckDB's Latin-1 reader refuses 0x80-0x9F, where Windows-1252
        # puts the euro sign, curly quotes and dashes.
        match = re.search(rb"[\x80-\x9f]", chunk)
        if match is None:
            return None
        line = lines_before + chunk.count(b"\n", 0, match.start()) + 1
        return (
            f"line {line} has the byte 0x{chunk[match.start()]:02x}, which Latin-1 does not define "
            "(Windows-1252 puts the euro sign, curly quotes and dashes there): "
            "save the file as UTF-8"
        )
    try:
        decoder.decode(chunk)
        return None
    except UnicodeDecodeError as error:
        line = lines_before + chunk.count(b"\n", 0, error.start) + 1
        if encoding == "utf-8":
            return (
                f"line {line} is not UTF-8 text (byte 0x{chunk[error.start]:02x}): the export "
                "looks Latin-1 or Windows-1252; save it as UTF-8, or set the var "
                "input_encoding: latin-1"
            )
        return f"line {line} is not {encoding} text (byte 0x{chunk[error.start]:02x})"


def not_csv_text(head: bytes, encoding: str) -> str | None:
    """A message when the first bytes are not text at all."""
    kind = kind_of_bytes(head)
    if kind == "UTF-16 text":
        if encoding == "utf-16":
            return None
        return "is UTF-16 text: save it as UTF-8, or set the var input_encoding: utf-16"
    if kind:
        advice = {
            "a zip archive (an Excel workbook is one)": "save the sheet as CSV (UTF-8)",
            "a Parquet file": "name it .parquet and set the var raw_format: parquet",
        }.get(kind, "export the table as CSV")
        return f"is not CSV text: it is {kind}; {advice}"
    if encoding == "utf-16":
        return "is not UTF-16 text (no byte order mark): save it as UTF-16, or unset input_encoding"
    sample = head[:8192]
    control = sum(1 for byte in sample if byte < 0x20 and byte not in (0x09, 0x0A, 0x0D))
    if sample and control / len(sample) > 0.05:
        return "is not CSV text: it holds binary data"
    return None


def kind_of_bytes(head: bytes) -> str | None:
    """What a file is, from its first bytes, when it is a known non-CSV kind."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "a zip archive (an Excel workbook is one)"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel (.xls) or Office document"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    sample = head[:64]
    if len(sample) >= 8 and (
        sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
    ):
        return "UTF-16 text"
    return None


def normalise(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def read_header(
    line: str, required: list[str], optional: tuple[str, ...] = ()
) -> tuple[str, list[str], str | None]:
    """The delimiter and the reader's column names, from the header line."""
    best = None
    for delimiter in DELIMITERS:
        written = next(csv.reader([line], delimiter=delimiter))
        fields = [normalise(field) for field in written]
        found = [column for column in required if column in fields]
        if len(found) == len(required):
            repeated = sorted({c for c in required if fields.count(c) > 1})
            if repeated:
                return (
                    delimiter,
                    [],
                    f"line 1: the header names {', '.join(repeated)} more than once",
                )
            columns = [
                field
                if (field in required or field in optional) and fields.index(field) == position
                else f"extra_{position + 1}"
                for position, field in enumerate(fields)
            ]
            return delimiter, columns, None
        if best is None or len(found) > len(best[1]):
            best = (written, found)
    written, found = best
    missing = [column for column in required if column not in found]
    shown = ", ".join(field.strip() for field in written if field.strip()) or "nothing"
    message = (
        f"line 1: wrong columns: it must name the columns {', '.join(required)} (in any order; "
        f"other columns are allowed); it has {shown} (missing {', '.join(missing)})"
    )
    if not found:
        message += ": is the header row missing?"
    return ",", [], message


def structure(path, gzipped, encoding, delimiter, columns) -> dict:
    """Reads the file with DuckDB's CSV reader and the options the staging
    views will read it with, and lists the lines it cannot read."""
    options = csv_read_options(gzipped, encoding, delimiter, columns)
    with private_duckdb() as connection:
        try:
            # fetchall: the rejects table is written when the scan ends.
            reader = f"read_csv('{sql_text(path)}', {options}, store_rejects = true)"
            row_count = connection.execute(f"select count(*) from {reader}").fetchall()[0][0]
            rejects = connection.execute(
                "select line, error_type, error_message, csv_line from reject_errors "
                "order by line, column_idx"
            ).fetchall()
        except duckdb.Error as error:
            return {"problems": [f"could not be read as CSV: {first_line(error)}"]}
    if not rejects:
        return {"problems": [], "read_options": options, "columns": columns, "row_count": row_count}
    first_per_line = {}
    for line, error_type, message, text in rejects:
        first_per_line.setdefault(line, (error_type, message, text))
    problems = []
    for line, (error_type, message, text) in list(first_per_line.items())[:PROBLEM_LINES_SHOWN]:
        if text is not None and not text.strip():
            problems.append(f"line {line} holds only spaces: remove it")
        else:
            described = describe_reject(error_type, message, delimiter, len(columns))
            problems.append(f"line {line}: {described}")
    lines = sorted(first_per_line)
    if len(lines) > PROBLEM_LINES_SHOWN:
        problems.append(f"and {len(lines) - PROBLEM_LINES_SHOWN} more lines that cannot be read")
    return {"problems": problems}


def describe_reject(error_type: str, message: str, delimiter: str, expected: int) -> str:
    found = re.search(r"Found: (\d+)", message or "")
    separator = DELIMITER_NAMES[delimiter]
    if error_type == "MISSING COLUMNS" and found:
        count = int(found.group(1))
        return f"{count} field{'s' if count != 1 else ''} instead of {expected}"
    if error_type == "TOO MANY COLUMNS" and found:
        return (
            f"{found.group(1)} fields instead of {expected} (a {separator} inside a value "
            "must be in double quotes)"
        )
    if error_type == "UNQUOTED VALUE":
        return "a value opens a double quote that is never closed"
    if error_type == "LINE SIZE OVER MAXIMUM":
        size = re.search(r"Actual Size:\s*(\d+)", message or "")
        actual = f" ({int(size.group(1)):,} bytes)" if size else ""
        return f"the line is longer than the {MAX_LINE_BYTES:,} bytes a line may have{actual}"
    if error_type == "INVALID ENCODING":
        return "not text in the expected encoding"
    return (message or error_type).strip()


def csv_read_options(gzipped, encoding, delimiter, columns) -> str:
    """The read_csv options every model reads the file with (the staging
    views take them from stg_crm__export_files): no guessing, the dialect
    found here."""
    quoted_columns = ", ".join(f"'{sql_text(column)}': 'VARCHAR'" for column in columns)
    return ", ".join(
        [
            "auto_detect = false",
            "header = true",
            f"delim = '{sql_text(delimiter)}'",
            "quote = '\"'",
            "escape = '\"'",
            f"columns = {{{quoted_columns}}}",
            f"encoding = '{encoding}'",
            f"compression = '{'gzip' if gzipped else 'none'}'",
            f"max_line_size = {MAX_LINE_BYTES}",
        ]
    )


def sql_text(text: str) -> str:
    """A text for inside a SQL string literal ('...')."""
    return text.replace("'", "''")


def quote_identifier(name: str) -> str:
    """A name (a Parquet file's own column name) as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class private_duckdb:
    """A small in-memory DuckDB of its own, so an inspection never touches
    dbt's connection or its transaction."""

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.connection = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
