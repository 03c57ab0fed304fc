"""Speaker labels to canonical roles: defaults, normalisation, user roles files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import InvalidManifest
from qualcode.ingest.roles import CANONICAL_ROLES, ROLE_DISPLAY, RoleMap, normalise_label

EXPECTED = {
    "es": [
        "IPS ES", "ES", "es:", "[ES]", "Employment Specialist", "Employment Advisor", "Employment Adviser",
        "IPS worker", "IPS employment specialist", "ES2", "ES 2", "IPS-ES", "Senior employment specialist",
        "Employment Specialist (ES)", "Luke (ES)",
    ],
    "ips_manager": [
        "IPS manager", "Team leader", "IPS team leader", "Service manager", "IPS coordinator", "IPS Co-ordinator",
        "IPS team manager", "Team lead", "Team manager",
    ],
    "ad_staff": [
        "keyworker", "Key worker", "key-worker", "Recovery practitioner", "care co-ordinator", "Care coordinator",
        "CMHT", "CMHT nurse", "Nurse", "Clinician", "Psychiatrist", "OT", "O.T.", "Occupational therapist",
        "Support worker", "AD staff", "Treatment staff", "Drug and alcohol worker", "Mental health nurse",
        "Keyworker 2",
    ],
    "client": [
        "Service user", "Client", "IPS client", "Participant", "SU", "Patient",
        "Client #3", "client_2", "Participant 4",
    ],
    "commissioner": ["Commissioner", "Public health commissioner", "Local authority", "LA commissioner", "CCG"],
    "employer": ["Employer", "Line manager", "Business owner", "Store manager", "HR manager"],
    "stakeholder": [
        "Stakeholder", "Work coach", "Jobcentre", "DWP", "Board member", "Regional lead", "Jobcentre Plus work coach",
        "Disability employment adviser",
    ],
    "interviewer": [
        "Int", "Int.", "Interviewer", "I", "Q", "Q1", "Researcher", "Evaluator", "Facilitator", "Interviewer 2",
    ],
    "unknown": ["A", "R", "R1", "Respondent", "Speaker 1", "Luke", "Manager", "2", "", "   "],
}


@pytest.mark.parametrize(("role", "label"), [(role, label) for role, labels in EXPECTED.items() for label in labels])
def test_default_labels(role: str, label: str) -> None:
    assert RoleMap.load().resolve(label) == role


def test_none_label_is_unknown_and_roles_are_canonical() -> None:
    roles = RoleMap.load()
    assert roles.resolve(None) == "unknown"
    assert roles.resolve(None, "x.vtt") == "unknown"
    assert set(ROLE_DISPLAY) == set(CANONICAL_ROLES)
    assert ROLE_DISPLAY["es"] == "IPS ES" and ROLE_DISPLAY["ad_staff"] == "Clinical staff"
    assert ROLE_DISPLAY["ips_manager"] == "IPS team manager" and ROLE_DISPLAY["unknown"] == "Unknown role"


@pytest.mark.parametrize(
    ("label", "normal"),
    [("IPS-ES 2:", "ips es"), ("Client #3", "client"), ("O.T.", "o t"), ("  [Speaker   10]: ", "speaker"),
     ("care_co-ordinator", "care co ordinator"), ("ES2", "es"), ("Client no. 3", "client"), ("Ｉｎｔ", "int")],
)
def test_normalise_label(label: str, normal: str) -> None:
    assert normalise_label(label) == normal


def write_roles(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_global_and_per_document_overrides(tmp_path: Path) -> None:
    path = write_roles(
        tmp_path,
        """
labels:
  "Speaker 1": interviewer
  "Resp": client
  ES: ips_manager          # overrides a default
  Jane: IPS ES             # display names are accepted too
patterns:
  "peer (mentor|supporter)": client
documents:
  berks_es.vtt:
    Luke: es
    "Speaker 2": Interviewer
  lincs_client:
    Speaker 1: client
""",
    )
    roles = RoleMap.load(path)
    assert roles.resolve("Speaker 1") == "interviewer"
    assert roles.resolve("speaker 1:") == "interviewer"
    assert roles.resolve("Speaker 2") == "unknown"  # "Speaker 1" does not cover other numbers
    assert roles.resolve("Resp") == "client"
    assert roles.resolve("Resp 2") == "client"
    assert roles.resolve("ES") == "ips_manager"
    assert roles.resolve("IPS ES") == "es"
    assert roles.resolve("Jane") == "es"
    assert roles.resolve("Peer mentor 2") == "client"
    assert roles.resolve("P3") == "unknown"
    assert roles.resolve("Luke") == "unknown"
    assert roles.resolve("Luke", "berks_es.vtt") == "es"
    assert roles.resolve("Luke", "transcripts/Berks_ES.vtt") == "es"
    assert roles.resolve("Luke", "berks_es.txt") == "unknown"
    assert roles.resolve("Speaker 2", "berks_es.vtt") == "interviewer"
    assert roles.resolve("Speaker 1", "lincs_client.docx") == "client"  # per document beats global
    assert roles.resolve("Speaker 1", "other.docx") == "interviewer"
    assert roles.resolve("Int", "berks_es.vtt") == "interviewer"  # defaults still apply
    assert RoleMap.load().resolve("Luke", "berks_es.vtt") == "unknown"  # defaults untouched


def test_empty_user_file_is_fine(tmp_path: Path) -> None:
    assert RoleMap.load(write_roles(tmp_path, "# nothing yet\n")).resolve("Int") == "interviewer"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("labels:\n  Luke: es\n  Jane: boss\n", "unknown role 'boss'", 3),
        ("labels:\n  Luke: [es\n", "malformed YAML", 3),
        ("labels:\n  Luke: es\n  luke: client\n", "given twice", 3),
        ("patterns:\n  \"(unclosed\": client\n", "bad regular expression", 2),
        ("speakers:\n  Luke: es\n", "unknown section 'speakers'", 1),
        ("labels:\n  - Luke\n", "labels must be a mapping", 2),
        ("documents:\n  a.vtt:\n    Luke: nobody\n", "unknown role 'nobody'", 3),
        ("- just\n- a list\n", "must be a mapping", 1),
    ],
)
def test_bad_user_files_raise_invalid_manifest(tmp_path: Path, text: str, message: str, line: int) -> None:
    path = write_roles(tmp_path, text)
    with pytest.raises(InvalidManifest) as err:
        RoleMap.load(path)
    assert message in str(err.value)
    assert err.value.file == str(path)
    assert err.value.line == line


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifest, match="cannot read") as err:
        RoleMap.load(tmp_path / "nope.yaml")
    assert err.value.file == str(tmp_path / "nope.yaml")
