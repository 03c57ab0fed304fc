from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.analysis.outcomes import (
    INTEGRATION_LEVELS,
    normalise_header,
    read_table,
    validate_client_outcomes,
    validate_site_outcomes,
)
from qualcode.errors import InvalidInput

FIXTURES = Path(__file__).parent / "fixtures" / "outcomes"


def write(tmp_path: Path, text: str, name: str = "sites.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def site_error(tmp_path: Path, text: str, **kwargs) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InvalidInput) as info:
        validate_site_outcomes(read_table(path), path.name, **kwargs)
    return str(info.value)


def test_levels_constant():
    assert INTEGRATION_LEVELS == ("low", "medium", "high")


@pytest.mark.parametrize(
    "raw, expected",
    [("Job-entry rate (%)", "job_entry_rate"), ("JobStarts", "job_starts"), (" Sustained 13w ", "sustained_13w"),
     ("Client ID", "client_id"), ("integration_rating", "integration_rating")],
)
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


def test_six_published_sites_derive_and_keep_rates():
    frame = read_table(FIXTURES / "six_sites.csv")
    result = validate_site_outcomes(frame, "six_sites.csv")
    out = result.frame.set_index("site")
    assert list(out.index)[3] == "Luton & Bedfordshire"
    assert out.loc["Berkshire", "job_entry_rate"] == pytest.approx(0.31)
    assert out["referrals"].dtype == "int64"
    assert out["jobs_achieved"].tolist() == [74, 78, 65, 114, 27, 63]  # other columns kept
    assert result.warnings == []  # given rates agree with job_starts / referrals within 1 point
    assert result.unknown_sites == []


def test_rate_derived_when_absent_or_blank(tmp_path):
    path = write(tmp_path, "site,referrals,job_starts,job_entry_rate\nA,200,50,\nB,100,40,0.41\n")
    result = validate_site_outcomes(read_table(path), path)
    assert result.frame["job_entry_rate"].tolist() == pytest.approx([0.25, 0.41])
    assert any("derived" in w and "row 2" in w for w in result.warnings)
    path2 = write(tmp_path, "site,referrals,job_starts\nA,8,2\nB,0,0\n", "b.csv")
    rates = validate_site_outcomes(read_table(path2), path2).frame["job_entry_rate"]
    assert rates[0] == 0.25 and math.isnan(rates[1])


@pytest.mark.parametrize("given", ["31%", "0.31", "31", " 31% ", "31.0"])
def test_rate_forms_all_mean_31_percent(tmp_path, given):
    path = write(tmp_path, f"site,job_entry_rate\nA,{given}\n")
    assert validate_site_outcomes(read_table(path), path).frame["job_entry_rate"][0] == pytest.approx(0.31)


def test_rate_disagreeing_with_counts_is_a_warning(tmp_path):
    path = write(tmp_path, "site,referrals,job_starts,job_entry_rate\nA,100,30,45%\n")
    result = validate_site_outcomes(read_table(path), path)
    assert result.frame["job_entry_rate"][0] == pytest.approx(0.45)
    assert result.warnings == ["row 2: job_entry_rate 45.0% differs from job_starts / referrals 30.0%"]


def test_non_numeric_cell_names_file_row_and_column(tmp_path):
    msg = site_error(tmp_path, "site,referrals,job_starts\nA,10,2\nB,lots,3\n")
    assert msg == "sites.csv, row 3: column 'referrals': 'lots' is not a number"


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    msg = site_error(tmp_path, "site,referrals\nA,10\n\n,\nB,x\n")
    assert msg.startswith("sites.csv, row 5:")


def test_duplicate_site_names_both_rows(tmp_path):
    msg = site_error(tmp_path, "site,referrals\nBarnet,10\nBrent,5\nbarnet ,3\n")
    assert "row 4" in msg and "rows 2 and 4" in msg and "Barnet" in msg


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("site,referrals\nA,-3\n", "row 2: column 'referrals': -3 is negative"),
        ("site,referrals,job_starts\nA,10,11\n", "row 2: job_starts (11) is more than referrals (10)"),
        ("site,integration_rating\nA,High\nB,very high\n", "row 3: column 'integration_rating'"),
        ("site,job_entry_rate\nA,150\n", "not a rate"),
        ("site,referrals\nA,2.5\n", "not a whole number"),
        ("name,referrals\nA,3\n", "row 1: missing required column 'site'"),
        ("site,referrals\n,3\n", "row 2: column 'site' is blank"),
    ],
)
def test_site_errors(tmp_path, text, fragment):
    assert fragment in site_error(tmp_path, text)


def test_ratings_case_insensitive_blank_allowed(tmp_path):
    path = write(tmp_path, "site,integration_rating\nA,HIGH\nB,\nC, Low \n")
    frame = validate_site_outcomes(read_table(path), path).frame
    assert frame["integration_rating"].tolist()[0] == "high"
    assert pd.isna(frame["integration_rating"][1]) and frame["integration_rating"][2] == "low"


def test_unknown_sites_reported_and_known_spelling_used():
    frame = read_table(FIXTURES / "boroughs.csv")
    known = ["Barnet", "Harrow", "Hounslow", "Brent", "Hillingdon", "EALING", "Westminster"]
    result = validate_site_outcomes(frame, "boroughs.csv", known_sites=known, key="Borough")
    assert result.unknown_sites == ["Kensington & Chelsea"]
    assert "EALING" in result.frame["borough"].tolist()
    assert result.frame["integration_rating"].tolist()[-1] == "low"
    assert result.frame["avg_meetings"].dtype == float


def test_encodings_and_xlsx(tmp_path):
    text = "Site,Referrals,Job starts\nCaf\u00e9 Borough,10,4\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cp = write(tmp_path, text, "cp.csv", encoding="cp1252")
    for path in (bom, cp):
        frame = read_table(path)
        assert list(frame.columns) == ["site", "referrals", "job_starts"]
        assert frame["site"][0] == "Caf\u00e9 Borough"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Site", "Referrals", "Job Starts", "Integration Rating"])
    sheet.append(["Barnet", 120, 47, "High"])
    sheet.append([None, None, None, None])
    sheet.append(["Brent", 110, "many", "medium"])
    book.save(tmp_path / "sites.xlsx")
    with pytest.raises(InvalidInput) as info:
        validate_site_outcomes(read_table(tmp_path / "sites.xlsx"), "sites.xlsx")
    assert str(info.value) == "sites.xlsx, row 4: column 'job_starts': 'many' is not a number"


def test_read_table_refuses_other_files(tmp_path):
    with pytest.raises(InvalidInput, match="file not found"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(InvalidInput, match="unsupported file type"):
        read_table(write(tmp_path, "{}", "x.json"))
    with pytest.raises(InvalidInput, match="cannot read"):
        read_table(write(tmp_path, "not a zip", "x.xlsx"))


def test_clients_fixture():
    result = validate_client_outcomes(read_table(FIXTURES / "clients.csv"), "clients.csv")
    frame = result.frame
    assert len(frame) == 7  # the blank line is dropped
    assert frame["client_id"].tolist()[0] == "C001"
    assert frame["job_start"].tolist()[:6] == [1, 0, 1, 0, 1, 0]
    assert math.isnan(frame["job_start"].iloc[6])
    assert math.isnan(frame["wemwbs_follow"].iloc[1]) and frame["wemwbs_base"].iloc[1] == 38
    assert math.isnan(frame["age"].iloc[5])
    assert frame["referral_source"].tolist()[1] == "Jobcentre"


def test_client_ids_keep_leading_zeros(tmp_path):
    path = write(tmp_path, "client_id,site,job_start\n007,A,1\n008,A,0\n", "c.csv")
    frame = validate_client_outcomes(read_table(path), path).frame
    assert frame["client_id"].tolist() == ["007", "008"]
    assert frame["job_start"].dtype == "int64"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("client_id,site,job_start\nA,X,1\nB,X,maybe\n", "row 3: column 'job_start': 'maybe' must be 0/1"),
        ("client_id,site,job_start\nA,X,1\nA,Y,0\n", "rows 2 and 3"),
        ("client_id,job_start\nA,1\n", "missing required column 'site'"),
        ("client_id,site,age\nA,X,-4\n", "row 2: column 'age': -4 is negative"),
        ("client_id,site,mood_base,mood_follow\nA,X,3,good\n", "row 2: column 'mood_follow'"),
        ("client_id,site\nA,\n", "row 2: column 'site' is blank"),
    ],
)
def test_client_errors(tmp_path, text, fragment):
    path = write(tmp_path, text, "clients.csv")
    with pytest.raises(InvalidInput) as info:
        validate_client_outcomes(read_table(path), path.name)
    assert fragment in str(info.value)
    assert str(info.value).startswith("clients.csv, row ")


def test_validators_accept_a_frame_built_in_a_notebook():
    df = pd.DataFrame({"Client ID": [1, 2], "Site": ["a", "b"], "Job start": [True, False]})
    result = validate_client_outcomes(df, "notebook", known_sites=["A"])
    assert result.frame["job_start"].tolist() == [1, 0]
    assert result.frame["client_id"].tolist() == ["1", "2"]
    assert result.unknown_sites == ["b"] and result.frame["site"][0] == "A"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=100), st.sampled_from(["{k}%", "{k}", "{f}"]))
def test_rate_rule_property(k, form):
    """'k%', k (above 1, so a percentage) and the fraction k/100 all store the same fraction."""
    df = pd.DataFrame({"site": ["A"], "job_entry_rate": [form.format(k=k, f=k / 100)]})
    assert validate_site_outcomes(df, "p").frame["job_entry_rate"][0] == pytest.approx(k / 100)
