"""Read and check the services' numbers that coded themes are set against.

Two shapes (DOMAIN.md, "Outcome data"): site level, one row per site or borough (referrals,
job starts, job-entry rate, integration rating, ...), and client level, one row per client
(site, job start 0/1, meetings, wellbeing scores, ...). Checks are all-or-nothing: a
validator returns a clean frame or raises :class:`InvalidInput` naming the file, the
spreadsheet row (header = row 1, first data row = row 2) and the column.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qualcode.errors import InvalidInput

INTEGRATION_LEVELS = ("low", "medium", "high")
SITE_COUNT_COLUMNS = ("referrals", "job_starts", "sustained_13w")
SITE_MEASURE_COLUMNS = ("fidelity_score", "avg_meetings")
CLIENT_NUMERIC_COLUMNS = ("age", "meetings")
CLIENT_BINARY_COLUMNS = ("job_start", "sustained_13w")
#: A given job-entry rate may differ from job_starts / referrals by this much (rounding).
RATE_TOLERANCE = 0.01

_TRUE = {"1", "yes", "y", "true", "t"}
_FALSE = {"0", "no", "n", "false", "f"}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class SiteOutcomesResult:
    """A checked site-level frame, sites not in the known list, and non-fatal notes."""

    frame: pd.DataFrame
    unknown_sites: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClientOutcomesResult:
    """A checked client-level frame, sites not in the known list, and non-fatal notes."""

    frame: pd.DataFrame
    unknown_sites: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reading
def normalise_header(name: object) -> str:
    """'Job-entry rate (%)' -> 'job_entry_rate'; 'JobStarts' -> 'job_starts'."""
    text = str(name).strip()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text or "unnamed"


def read_table(path: str | Path, *, sheet: str | int = 0) -> pd.DataFrame:
    """Read a .csv (UTF-8, UTF-8 with BOM or Windows-1252) or .xlsx file into a frame.

    Headers become snake_case; cells are stripped and blanks become NaN. Columns whose
    every value is a plain number become numeric, except identifier columns (``site``,
    ``id`` and ``*_id``), which stay text so '007' keeps its zeros. Blank rows are kept so
    that position + 2 is still the spreadsheet row; the validators drop them.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("file not found", file=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            frame = _read_csv(path)
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
        else:
            raise InvalidInput(f"unsupported file type {suffix!r}: use .csv or .xlsx", file=path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, zipfile.BadZipFile) as exc:
        raise InvalidInput(f"cannot read the table: {exc}", file=path) from exc
    except ValueError as exc:  # e.g. a missing sheet name
        raise InvalidInput(f"cannot read the table: {exc}", file=path) from exc
    return _tidy(frame, path)


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise InvalidInput("not UTF-8 or Windows-1252 text", file=path) from exc
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False)


def _is_id_column(name: str) -> bool:
    return name in ("site", "id") or name.endswith("_id")


def _tidy(frame: pd.DataFrame, file: str | Path) -> pd.DataFrame:
    frame = _normalise_columns(frame, file)
    out: dict[str, pd.Series] = {}
    for col in frame.columns:
        values = [None if _blank(v) else (v.strip() if isinstance(v, str) else v) for v in frame[col]]
        if col.startswith("unnamed") and all(v is None for v in values):
            continue  # an empty spreadsheet column with no header
        if _is_id_column(col):
            out[col] = pd.Series([None if v is None else _key_text(v) for v in values], dtype=object)
            continue
        try:
            out[col] = _as_numbers([math.nan if v is None else _plain_number(v) for v in values])
        except ValueError:
            out[col] = pd.Series(values, dtype=object)
    return pd.DataFrame(out, index=range(len(frame)))


def _plain_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, Number):
        return float(value)  # type: ignore[arg-type]
    number = float(str(value))
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _normalise_columns(frame: pd.DataFrame, file: str | Path | None) -> pd.DataFrame:
    names = [normalise_header(c) for c in frame.columns]
    seen: dict[str, object] = {}
    for original, name in zip(frame.columns, names):
        if name in seen and not name.startswith("unnamed"):
            raise InvalidInput(
                f"columns {seen[name]!r} and {original!r} both become {name!r}", file=file, row=1
            )
        seen[name] = original
    frame = frame.copy()
    frame.columns = names
    return frame


# ----------------------------------------------------------------------------- cells
def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _key_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _number(value: Any, column: str, file: Any, row: int) -> float:
    """A finite number, or NaN for a blank cell; anything else is an error."""
    if _blank(value):
        return math.nan
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        return _plain_number(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"column {column!r}: {value!r} is not a number", file=file, row=row) from None


def _rate(value: Any, column: str, file: Any, row: int) -> float:
    """'31%' -> 0.31; 31 -> 0.31 (values above 1 are percentages); 0.31 -> 0.31."""
    if _blank(value):
        return math.nan
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.endswith("%"):
        number = _number(text[:-1], column, file, row) / 100.0
    else:
        number = _number(text, column, file, row)
        if number > 1:
            number /= 100.0
    if not 0.0 <= number <= 1.0:
        raise InvalidInput(f"column {column!r}: {value!r} is not a rate between 0% and 100%", file=file, row=row)
    return number


def _binary(value: Any, column: str, file: Any, row: int) -> float:
    if _blank(value):
        return math.nan
    text = str(int(value)) if isinstance(value, (bool, np.bool_)) else _key_text(value).lower()
    if text in ("1.0", "0.0"):
        text = text[0]
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    raise InvalidInput(f"column {column!r}: {value!r} must be 0/1 (or yes/no, true/false)", file=file, row=row)


def _as_numbers(values: list[float]) -> pd.Series:
    """int64 when every value is a whole number, else float64 with NaN for blanks."""
    series = pd.Series(values, dtype=float)
    if series.notna().all() and (series % 1 == 0).all():
        return series.astype("int64")
    return series


# ----------------------------------------------------------------------------- shared
def _prepare(df: pd.DataFrame, file: Any, key: str, what: str) -> tuple[pd.DataFrame, list[int]]:
    """Normalise headers, drop blank rows (remembering spreadsheet rows), check the key."""
    frame = _normalise_columns(df, file)
    key = normalise_header(key)
    if key not in frame.columns:
        raise InvalidInput(f"missing required column {key!r} ({what})", file=file, row=1)
    rows = list(range(2, len(frame) + 2))
    keep = [i for i in range(len(frame)) if not all(_blank(v) for v in frame.iloc[i])]
    frame = frame.iloc[keep].reset_index(drop=True)
    rows = [rows[i] for i in keep]
    keys: list[str] = []
    first_row: dict[str, tuple[int, str]] = {}
    for value, row in zip(frame[key], rows):
        if _blank(value):
            raise InvalidInput(f"column {key!r} is blank", file=file, row=row)
        text = _key_text(value)
        folded = text.casefold()
        if folded in first_row:
            first, spelled = first_row[folded]
            also = f" (spelled {text!r} on row {row})" if spelled != text else ""
            raise InvalidInput(
                f"{key} {spelled!r} appears twice: rows {first} and {row}{also}", file=file, row=row
            )
        first_row[folded] = (row, text)
        keys.append(text)
    frame[key] = pd.Series(keys, dtype=object)
    return frame, rows


def _match_sites(
    frame: pd.DataFrame, column: str, known_sites: Collection[str] | None, rows: list[int], warnings: list[str]
) -> list[str]:
    """Respell sites to the known list (case and spacing) and return the unknown ones."""
    if known_sites is None:
        return []
    known = {_key_text(s).casefold(): _key_text(s) for s in known_sites}
    unknown: list[str] = []
    spelled: list[Any] = []
    for value, row in zip(frame[column], rows):
        if _blank(value):
            spelled.append(value)
            continue
        text = _key_text(value)
        match = known.get(text.casefold())
        if match is None:
            if text not in unknown:
                unknown.append(text)
            spelled.append(text)
        else:
            if match != text:
                warnings.append(f"row {row}: site {text!r} read as known site {match!r}")
            spelled.append(match)
    frame[column] = pd.Series(spelled, dtype=object)
    return unknown


# ----------------------------------------------------------------------------- site level
def validate_site_outcomes(
    df: pd.DataFrame,
    file: str | Path,
    known_sites: Collection[str] | None = None,
    key: str = "site",
) -> SiteOutcomesResult:
    """Check a site-level outcomes table; return a clean frame or raise InvalidInput.

    ``job_entry_rate`` is stored as a fraction 0..1. A given rate may be '31%', 0.31 or 31:
    values above 1 are read as percentages (so 1 means 100%, and '0.5%' needs its % sign).
    Where the rate is absent or blank it is derived as job_starts / referrals.
    """
    frame, rows = _prepare(df, file, key, "one row per site")
    key = normalise_header(key)
    warnings: list[str] = []
    for column in SITE_COUNT_COLUMNS + SITE_MEASURE_COLUMNS:
        if column not in frame.columns:
            continue
        values = [_number(v, column, file, row) for v, row in zip(frame[column], rows)]
        for number, row in zip(values, rows):
            if number < 0:
                raise InvalidInput(f"column {column!r}: {number:g} is negative", file=file, row=row)
            if column in SITE_COUNT_COLUMNS and not math.isnan(number) and not number.is_integer():
                raise InvalidInput(f"column {column!r}: {number:g} is not a whole number", file=file, row=row)
        frame[column] = _as_numbers(values)

    if "referrals" in frame.columns and "job_starts" in frame.columns:
        for ref, starts, row in zip(frame["referrals"], frame["job_starts"], rows):
            if starts > ref:  # NaN compares False
                raise InvalidInput(
                    f"job_starts ({starts:g}) is more than referrals ({ref:g})", file=file, row=row
                )
    if "sustained_13w" in frame.columns and "job_starts" in frame.columns:
        for kept, starts, row in zip(frame["sustained_13w"], frame["job_starts"], rows):
            if kept > starts:
                warnings.append(f"row {row}: sustained_13w ({kept:g}) is more than job_starts ({starts:g})")

    rating = "integration_rating"
    if rating in frame.columns:
        levels: list[Any] = []
        for value, row in zip(frame[rating], rows):
            if _blank(value):
                levels.append(np.nan)
                continue
            text = str(value).strip().lower()
            if text not in INTEGRATION_LEVELS:
                raise InvalidInput(
                    f"column {rating!r}: {value!r} must be low, medium or high", file=file, row=row
                )
            levels.append(text)
        frame[rating] = pd.Series(levels, dtype=object)

    frame["job_entry_rate"] = _entry_rates(frame, file, rows, warnings)
    unknown = _match_sites(frame, key, known_sites, rows, warnings)
    return SiteOutcomesResult(frame=frame, unknown_sites=unknown, warnings=warnings)


def _entry_rates(frame: pd.DataFrame, file: Any, rows: list[int], warnings: list[str]) -> pd.Series:
    given = frame["job_entry_rate"] if "job_entry_rate" in frame.columns else [np.nan] * len(frame)
    can_derive = "referrals" in frame.columns and "job_starts" in frame.columns
    rates: list[float] = []
    derived: list[int] = []
    for i, (value, row) in enumerate(zip(given, rows)):
        rate = _rate(value, "job_entry_rate", file, row)
        computed = math.nan
        if can_derive:
            ref, starts = frame["referrals"].iloc[i], frame["job_starts"].iloc[i]
            if ref > 0 and not math.isnan(starts):
                computed = starts / ref
        if math.isnan(rate):
            rate = computed
            if not math.isnan(computed):
                derived.append(row)
        elif not math.isnan(computed) and abs(rate - computed) > RATE_TOLERANCE:
            warnings.append(
                f"row {row}: job_entry_rate {rate:.1%} differs from job_starts / referrals {computed:.1%}"
            )
        rates.append(rate)
    if derived and "job_entry_rate" in frame.columns:
        warnings.append(f"job_entry_rate derived from job_starts / referrals on {_rowlist(derived)}")
    return pd.Series(rates, dtype=float)


def _rowlist(rows: list[int]) -> str:
    """'row 2' or 'rows 2, 5, 9' (at most ten listed)."""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(str(r) for r in rows[:10]) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


# ----------------------------------------------------------------------------- client level
def validate_client_outcomes(
    df: pd.DataFrame,
    file: str | Path,
    key: str = "client_id",
    known_sites: Collection[str] | None = None,
) -> ClientOutcomesResult:
    """Check a client-level table (one row per client); return a clean frame or raise.

    ``job_start`` (and ``sustained_13w``) accept 0/1, yes/no, y/n, true/false and become
    integers (float with NaN where a cell is blank). ``age``, ``meetings`` and wellbeing
    ``*_base`` / ``*_follow`` columns must be non-negative numbers where present.
    """
    frame, rows = _prepare(df, file, key, "one row per client")
    warnings: list[str] = []
    if "site" not in frame.columns:
        raise InvalidInput("missing required column 'site'", file=file, row=1)
    sites: list[str] = []
    for value, row in zip(frame["site"], rows):
        if _blank(value):
            raise InvalidInput("column 'site' is blank", file=file, row=row)
        sites.append(_key_text(value))
    frame["site"] = pd.Series(sites, dtype=object)

    for column in CLIENT_BINARY_COLUMNS:
        if column in frame.columns:
            frame[column] = _as_numbers([_binary(v, column, file, r) for v, r in zip(frame[column], rows)])
    if "job_start" in frame.columns and "sustained_13w" in frame.columns:
        odd = [r for s, j, r in zip(frame["sustained_13w"], frame["job_start"], rows) if s == 1 and j == 0]
        if odd:
            warnings.append(f"sustained_13w is 1 but job_start is 0 on {_rowlist(odd)}")

    wellbeing = [c for c in frame.columns if c.endswith(("_base", "_follow"))]
    for column in [c for c in CLIENT_NUMERIC_COLUMNS if c in frame.columns] + wellbeing:
        values = [_number(v, column, file, r) for v, r in zip(frame[column], rows)]
        if column in CLIENT_NUMERIC_COLUMNS:
            for number, row in zip(values, rows):
                if number < 0:
                    raise InvalidInput(f"column {column!r}: {number:g} is negative", file=file, row=row)
        frame[column] = _as_numbers(values)
    unknown = _match_sites(frame, "site", known_sites, rows, warnings)
    return ClientOutcomesResult(frame=frame, unknown_sites=unknown, warnings=warnings)
