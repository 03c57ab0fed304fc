"""Transcript format parsers: every format and convention, encodings, malformed files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook

from qualcode.errors import InvalidTranscript, QualcodeError
from qualcode.ingest.decode import decode_bytes
from qualcode.ingest.formats import SUPPORTED_SUFFIXES, parse_file
from qualcode.ingest.text import parse_text, parse_timestamp, ts_to_ms
from qualcode.ingest.vtt import parse_srt, parse_vtt


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def pairs(parsed) -> list[tuple[str | None, str]]:
    return [(t.label, t.text) for t in parsed.turns]


# -- plain text ------------------------------------------------------------------------


def test_txt_label_colon_turns_and_continuations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "berks_es.txt",
        "Int: How did you start?\n\nIPS ES: I met the team.\nThen I went to the MDT.\n\n\n\nand after that, more.\n"
        "Int: Thanks.\n",
    )
    parsed = parse_file(path)
    assert parsed.format == "txt"
    assert parsed.encoding == "utf-8"
    assert pairs(parsed) == [
        ("Int", "How did you start?"),
        ("IPS ES", "I met the team.\nThen I went to the MDT.\nand after that, more."),
        ("Int", "Thanks."),
    ]
    assert [t.line for t in parsed.turns] == [1, 3, 9]
    assert all(t.start_ms is None for t in parsed.turns)


def test_txt_sentences_with_colons_are_not_labels() -> None:
    text = (
        "Client: There were three things: money, time and confidence.\n"
        "I think: yes.\n"
        "What I really wanted from the whole thing: a job.\n"
        "We met at 10:30 and talked.\n"
        "So: that was it.\n"
        "See https://example.org for more.\n"
        "The meeting ran until 11:45\n"
        "- Training: we did a lot\n"
        "1. Money: not enough\n"
    )
    parsed = parse_text(text, "t.txt")
    assert len(parsed.turns) == 1
    assert parsed.turns[0].label == "Client"
    assert parsed.turns[0].text.count("\n") == 8


@pytest.mark.parametrize(
    ("line", "label", "text", "start_ms", "end_ms"),
    [
        ("[00:01:23] Int: hello", "Int", "hello", 83_000, None),
        ("[00:01:23]Int: hello", "Int", "hello", 83_000, None),
        ("00:01:23 Int: hello", "Int", "hello", 83_000, None),
        ("(00:01:23) Int: hello", "Int", "hello", 83_000, None),
        ("[01:23] Int: hello", "Int", "hello", 83_000, None),
        ("00:01:23 - 00:01:40 Int: hello", "Int", "hello", 83_000, 100_000),
        ("[00:01:23 --> 00:01:40] Int: hello", "Int", "hello", 83_000, 100_000),
        ("[1:02:03.5] Q: hello", "Q", "hello", 3_723_500, None),
        ("Int (00:01:23): hello", "Int", "hello", 83_000, None),
        ("Int [00:01:23] hello", "Int", "hello", 83_000, None),
        ("Int: [00:01:23] hello", "Int", "hello", 83_000, None),
        ("[Interviewer] hello", "Interviewer", "hello", None, None),
        ("[Interviewer]: hello", "Interviewer", "hello", None, None),
        ("[00:00:05] [IPS ES] hello", "IPS ES", "hello", 5_000, None),
        ("**Int:** hello", "Int", "hello", None, None),
        ("**Int**: hello", "Int", "hello", None, None),
        ("__Speaker 2:__ hello", "Speaker 2", "hello", None, None),
        ("Speaker 2: hello", "Speaker 2", "hello", None, None),
        ("Interviewer (JS): hello", "Interviewer (JS)", "hello", None, None),
    ],
)
def test_txt_label_and_timestamp_conventions(
    line: str, label: str, text: str, start_ms: int | None, end_ms: int | None
) -> None:
    parsed = parse_text(line + "\n", "t.txt")
    assert pairs(parsed) == [(label, text)]
    assert (parsed.turns[0].start_ms, parsed.turns[0].end_ms) == (start_ms, end_ms)


def test_txt_label_on_its_own_line_with_timestamp_otter_style() -> None:
    text = (
        "Speaker 1  0:00\nHello and welcome.\nThis is the second line.\n\n"
        "Luke  0:15\nThanks for having me.\n\n"
        "Speaker 1  1:02:03\nGood.\n\nTranscribed by https://otter.ai\n"
    )
    parsed = parse_text(text, "otter.txt")
    assert pairs(parsed) == [
        ("Speaker 1", "Hello and welcome.\nThis is the second line."),
        ("Luke", "Thanks for having me."),
        ("Speaker 1", "Good."),
    ]
    assert [t.start_ms for t in parsed.turns] == [0, 15_000, 3_723_000]
    assert any("footer" in w for w in parsed.warnings)


def test_txt_timestamp_line_then_name_line_teams_style() -> None:
    text = (
        "0:0:0.0 --> 0:0:5.120\nLuke Smith\nHello there.\n\n"
        "0:0:5.120 --> 0:0:9.0\nJane Doe\nHi Luke.\nHow are you?\n"
    )
    parsed = parse_text(text, "teams.txt")
    assert pairs(parsed) == [("Luke Smith", "Hello there."), ("Jane Doe", "Hi Luke.\nHow are you?")]
    assert [(t.start_ms, t.end_ms) for t in parsed.turns] == [(0, 5_120), (5_120, 9_000)]
    assert parsed.warnings == []


def test_txt_bracketed_annotations_are_not_labels() -> None:
    parsed = parse_text("Client: I went.\n[laughs] It was fine.\n[Inaudible] yes\n[Name] helped me.\n", "a.txt")
    assert pairs(parsed) == [("Client", "I went.\n[laughs] It was fine.\n[Inaudible] yes\n[Name] helped me.")]


def test_txt_header_block_and_title_are_skipped_with_warnings() -> None:
    text = (
        "IPS process evaluation, wave 2\nInterview transcript: ES\n\n"
        "Site: Berkshire\nDate: 12 May 2021\nInterviewee: ES\nParticipant: P03\nWave: 2\n\n"
        "Int: Can you tell me about your role?\nParticipant: Yes, I am the ES.\n"
    )
    parsed = parse_text(text, "h.txt")
    assert pairs(parsed) == [("Int", "Can you tell me about your role?"), ("Participant", "Yes, I am the ES.")]
    assert parsed.turns[0].line == 10
    joined = " ".join(parsed.warnings)
    assert "(Interview transcript, Site, Date, Interviewee, Participant, Wave)" in joined
    assert "skipped 1 line(s) without a speaker label before the first turn (line 1)" in joined


def test_txt_weak_header_key_opening_a_transcript_is_a_turn() -> None:
    parsed = parse_text("Participant: Yes, I found it really helpful.\nInt: Why?\n", "w.txt")
    assert pairs(parsed) == [("Participant", "Yes, I found it really helpful."), ("Int", "Why?")]
    assert parsed.warnings == []


def test_txt_label_without_text_is_dropped_with_warning() -> None:
    parsed = parse_text("Int:\nInt: Hello\nES: Hi\n", "e.txt")
    assert pairs(parsed) == [("Int", "Hello"), ("ES", "Hi")]
    assert any("line 1" in w and "no text" in w for w in parsed.warnings)


def test_md_bold_labels_and_label_only_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.MD", "# Interview 4\n\n**Interviewer:** hello\n\n**Client**\nline one\n\nline two\n")
    parsed = parse_file(path)
    assert parsed.format == "md"
    assert pairs(parsed) == [("Interviewer", "hello"), ("Client", "line one\nline two")]


def test_txt_without_any_label_is_invalid_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "prose.txt", "This is just some prose.\nNo speakers at all here.\n")
    with pytest.raises(InvalidTranscript) as err:
        parse_file(path)
    assert "no speaker turns found" in str(err.value)
    assert err.value.file == str(path)


def test_timestamp_helpers() -> None:
    assert ts_to_ms("01:23") == 83_000
    assert ts_to_ms("1:02:03") == 3_723_000
    assert ts_to_ms("00:00:01.25") == 1_250
    assert ts_to_ms("00:61:00") is None
    assert ts_to_ms("ab") is None
    assert parse_timestamp("[00:01:23] - [00:01:40]") == (83_000, 100_000)
    assert parse_timestamp("hello") is None


# -- encodings ---------------------------------------------------------------------------


def test_decode_utf8_bom_and_cp1252_report_the_encoding(tmp_path: Path) -> None:
    words = "café – ‘quoted’"
    utf8 = write(tmp_path, "u.txt", f"Client: {words}\n")
    bom = tmp_path / "b.txt"
    bom.write_bytes(f"Client: {words}\n".encode("utf-8-sig"))
    ansi = write(tmp_path, "c.txt", f"Client: {words}\r\nInt: ok\r\n", encoding="cp1252")
    for path, encoding in ((utf8, "utf-8"), (bom, "utf-8-sig"), (ansi, "cp1252")):
        parsed = parse_file(path)
        assert parsed.encoding == encoding
        assert parsed.turns[0].text == words
        assert parsed.turns[0].label == "Client"


def test_decode_normalises_line_endings_and_nfc() -> None:
    text, encoding = decode_bytes("Int: cafe\u0301\r\nES: old mac\rend".encode("utf-8"), "x.txt")
    assert encoding == "utf-8"
    assert text == "Int: caf\u00e9\nES: old mac\nend"


def test_decode_utf16_with_bom() -> None:
    text, encoding = decode_bytes("Int: hello ‘there’".encode("utf-16"), "x.txt")
    assert (text, encoding) == ("Int: hello ‘there’", "utf-16")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", "\ufeff \n".encode("utf-8")])
def test_empty_files_are_invalid(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(InvalidTranscript, match="empty") as err:
        parse_file(path)
    assert err.value.file == str(path)


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, b"Int: hello\x00\x00world", b"\x01\x02\x03\x04\x05 some text", b"PK\x03\x04rest"],
)
def test_binary_files_are_invalid(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(data)
    with pytest.raises(InvalidTranscript, match="not a text file") as err:
        parse_file(path)
    assert err.value.file == str(path)


# -- WebVTT and SRT ------------------------------------------------------------------------

TEAMS_VTT = """WEBVTT
Kind: captions

NOTE written by Teams

a1b2-0
00:00:01.000 --> 00:00:04.000
<v Luke Smith>Hello there,</v>

a1b2-1
00:00:04.500 --> 00:00:06.000
<v Luke Smith>how are
you?</v>

00:00:06.000 --> 00:00:08.250 align:start
<v.loud Jane Doe>Fine &amp; you?</v>

00:00:08.250 --> 00:00:09.000
and more from Jane

00:01:09.000 --> 00:01:10.500
<v Luke Smith>Back to me.</v>
"""


def test_vtt_voice_tags_merge_consecutive_cues(tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, "berks_es.vtt", TEAMS_VTT))
    assert parsed.format == "vtt"
    assert pairs(parsed) == [
        ("Luke Smith", "Hello there, how are you?"),
        ("Jane Doe", "Fine & you? and more from Jane"),
        ("Luke Smith", "Back to me."),
    ]
    assert [(t.line, t.start_ms, t.end_ms) for t in parsed.turns] == [
        (1, 1_000, 6_000), (3, 6_000, 9_000), (5, 69_000, 70_500),
    ]
    assert parsed.warnings == []


def test_vtt_name_prefix_zoom_style() -> None:
    text = (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nInt: Hello\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\nInt: again\n\n"
        "3\n00:00:03.000 --> 00:00:04.500\nClient 1: Hi\nthere\n"
    )
    parsed = parse_vtt(text, "zoom.vtt")
    assert pairs(parsed) == [("Int", "Hello again"), ("Client 1", "Hi there")]
    assert [(t.line, t.start_ms, t.end_ms) for t in parsed.turns] == [(1, 1_000, 3_000), (3, 3_000, 4_500)]


def test_vtt_agrees_with_webvtt_py_on_a_wellformed_file() -> None:
    import webvtt

    captions = webvtt.from_buffer(io.StringIO(TEAMS_VTT)).captions
    ours = parse_vtt(TEAMS_VTT, "x.vtt")
    assert ours.turns[0].start_ms == captions[0].start_time.in_milliseconds()
    assert ours.turns[-1].end_ms == captions[-1].end_time.in_milliseconds()
    words_ours = " ".join(t.text for t in ours.turns).replace("&", "&amp;").split()
    words_theirs = " ".join(c.text for c in captions).split()
    assert words_ours == words_theirs
    assert [c.voice for c in captions if c.voice] == ["Luke Smith", "Luke Smith", "Jane Doe", "Luke Smith"]


def test_vtt_without_speakers_is_one_unlabelled_turn_with_warning() -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n\n00:00:02.000 --> 00:00:03.000\nworld\n"
    parsed = parse_vtt(text, "n.vtt")
    assert pairs(parsed) == [(None, "hello world")]
    assert parsed.warnings and "no speaker" in parsed.warnings[0]


def test_vtt_broken_timestamp_names_the_cue_and_line(tmp_path: Path) -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v A>one</v>\n\n2\n00:00:0x.000 --> 00:00:03.000\n<v B>two</v>\n"
    path = write(tmp_path, "broken.vtt", text)
    with pytest.raises(InvalidTranscript) as err:
        parse_file(path)
    assert (err.value.file, err.value.cue, err.value.line) == (str(path), 2, 7)
    assert "cue 2" in str(err.value) and "broken.vtt" in str(err.value)


@pytest.mark.parametrize(
    ("text", "cue", "line"),
    [
        ("00:00:01.000 --> 00:00:02.000\nhello\n", None, 1),  # no WEBVTT header
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n\nstray text without timing\n", 2, 6),
        ("WEBVTT\n\n00:00:01.000 --> 00:61:02.000\nhi\n", 1, 3),
    ],
)
def test_vtt_malformed_files(text: str, cue: int | None, line: int) -> None:
    with pytest.raises(InvalidTranscript) as err:
        parse_vtt(text, "m.vtt")
    assert (err.value.cue, err.value.line, err.value.file) == (cue, line, "m.vtt")


SRT = """1
00:00:01,000 --> 00:00:04,000
Luke: Hello <i>there</i>

2
00:00:04,000 --> 00:00:05,500
2019
was a good year

3
00:00:06,000 --> 00:00:07,000
Jane: ok

4
00:00:07,000 --> 00:00:08,000
and then
"""


def test_srt_name_prefixes_and_merging(tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, "zoom.SRT", SRT))
    assert parsed.format == "srt"
    assert pairs(parsed) == [("Luke", "Hello there 2019 was a good year"), ("Jane", "ok and then")]
    assert [(t.line, t.start_ms, t.end_ms) for t in parsed.turns] == [(1, 1_000, 5_500), (3, 6_000, 8_000)]


def test_srt_broken_timestamp_names_the_cue() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\nA: hi\n\n2\n00:00:02,000 --> 00:00:0x,000\nB: no\n"
    with pytest.raises(InvalidTranscript) as err:
        parse_srt(text, "b.srt")
    assert (err.value.cue, err.value.line) == (2, 6)


def test_srt_that_is_not_srt() -> None:
    with pytest.raises(InvalidTranscript, match="not an SRT file") as err:
        parse_srt("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n", "v.srt")
    assert err.value.line == 1


# -- docx ------------------------------------------------------------------------------------


def bold_para(doc, label: str, text: str = "") -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(label).bold = True
    if text:
        paragraph.add_run(text)


def test_docx_bold_labels_plain_labels_and_header(tmp_path: Path) -> None:
    doc = Document()
    doc.add_heading("Interview transcript", level=1)
    bold_para(doc, "Site:", " Berkshire")
    doc.add_paragraph("Date: 1 May 2021")
    doc.add_paragraph("")
    bold_para(doc, "Interviewer:", " Hello, how are you?")
    bold_para(doc, "Luke Smith", " I am fine, thanks.")
    doc.add_paragraph("And a second paragraph.")
    bold_para(doc, "IPS ES")
    doc.add_paragraph("First paragraph of the ES.")
    doc.add_paragraph("")
    doc.add_paragraph("Second paragraph of the ES.")
    bold_para(doc, "Int 0:15")
    doc.add_paragraph("A question with a line\nbreak in it")
    doc.add_paragraph("Client: plain label in Word")
    path = tmp_path / "interview.docx"
    doc.save(path)
    parsed = parse_file(path)
    assert parsed.format == "docx" and parsed.encoding is None
    assert pairs(parsed) == [
        ("Interviewer", "Hello, how are you?"),
        ("Luke Smith", "I am fine, thanks.\nAnd a second paragraph."),
        ("IPS ES", "First paragraph of the ES.\nSecond paragraph of the ES."),
        ("Int", "A question with a line\nbreak in it"),
        ("Client", "plain label in Word"),
    ]
    assert [t.line for t in parsed.turns] == [5, 6, 8, 12, 14]
    assert parsed.turns[3].start_ms == 15_000
    assert any("Site, Date" in w for w in parsed.warnings)


def test_docx_bold_title_is_not_a_label(tmp_path: Path) -> None:
    doc = Document()
    bold_para(doc, "Transcript four")
    bold_para(doc, "Int:", " hello")
    doc.add_paragraph("ES: hi")
    path = tmp_path / "t.docx"
    doc.save(path)
    assert pairs(parse_file(path)) == [("Int", "hello"), ("ES", "hi")]


def test_docx_tables_two_and_three_columns(tmp_path: Path) -> None:
    doc = Document()
    table = doc.add_table(rows=3, cols=3)
    rows = [("00:01:00", "Int", "Table question"), ("00:01:10", "Client", "Answer\nover two lines"), ("", "", "more")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    doc.add_paragraph("")
    second = doc.add_table(rows=3, cols=2)
    second_rows = [("Speaker", "Text"), ("ES", "From the two-column table"), ("Int", "")]
    for row, values in zip(second.rows, second_rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    path = tmp_path / "teams_table.docx"
    doc.save(path)
    parsed = parse_file(path)
    assert pairs(parsed) == [
        ("Int", "Table question"),
        ("Client", "Answer\nover two lines\nmore"),
        ("ES", "From the two-column table"),
    ]
    assert [t.start_ms for t in parsed.turns] == [60_000, 70_000, None]
    assert [t.line for t in parsed.turns] == [1, 2, 6]


@pytest.mark.parametrize("data", [b"this is not a zip file", b"PK\x03\x04 truncated zip"])
def test_corrupt_docx_is_invalid_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "corrupt.docx"
    path.write_bytes(data)
    with pytest.raises(InvalidTranscript, match="docx") as err:
        parse_file(path)
    assert err.value.file == str(path)


# -- tables ------------------------------------------------------------------------------------


def write_csv(tmp_path: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def test_csv_rows_are_turns_with_synonym_headers(tmp_path: Path) -> None:
    rows = [
        ["Start_Time", "Role", "Utterance"],
        ["00:00:05", "Int", "How was it?"],
        ["00:00:09", "IPS ES", "Good."],
        ["", "IPS ES", "Really good, multi\nline."],
        ["", "Int", ""],
        ["12.5", "Int", "Seconds as a number"],
    ]
    parsed = parse_file(write_csv(tmp_path, "rows.csv", rows, encoding="cp1252"))
    assert parsed.format == "csv" and parsed.encoding == "utf-8"  # ASCII decodes as UTF-8
    assert pairs(parsed) == [
        ("Int", "How was it?"),
        ("IPS ES", "Good."),
        ("IPS ES", "Really good, multi\nline."),
        ("Int", "Seconds as a number"),
    ]
    assert [t.line for t in parsed.turns] == [2, 3, 4, 6]
    assert [t.start_ms for t in parsed.turns] == [5_000, 9_000, None, 12_500]


def test_csv_semicolon_and_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_bytes("speaker;text\nClient;café – ‘quoted’\n".encode("cp1252"))
    parsed = parse_file(path)
    assert parsed.encoding == "cp1252"
    assert pairs(parsed) == [("Client", "café – ‘quoted’")]


def test_csv_missing_column_names_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "nospeaker.csv", [["time", "text"], ["00:00:01", "hello"]])
    with pytest.raises(InvalidTranscript, match="speaker column") as err:
        parse_file(path)
    assert err.value.file == str(path)


def test_csv_row_missing_speaker_names_the_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "gap.csv", [["speaker", "text"], ["Int", "hello"], ["", "orphan text"]])
    with pytest.raises(InvalidTranscript, match="no speaker") as err:
        parse_file(path)
    assert (err.value.file, err.value.row) == (str(path), 3)
    assert "row 3" in str(err.value)


def test_xlsx_rows_and_times(tmp_path: Path) -> None:
    import datetime as dt

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Speaker", "Transcript", "Timestamp"])
    sheet.append(["Int", "Question one", dt.time(0, 1, 23)])
    sheet.append(["Client", "Answer", "00:01:30"])
    sheet.append([1, 2, None])
    path = tmp_path / "sheet.XLSX"
    workbook.save(path)
    parsed = parse_file(path)
    assert parsed.format == "xlsx" and parsed.encoding is None
    assert [(t.label, t.text, t.line, t.start_ms) for t in parsed.turns] == [
        ("Int", "Question one", 2, 83_000), ("Client", "Answer", 3, 90_000), ("1", "2", 4, None),
    ]


def test_corrupt_xlsx_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(InvalidTranscript, match="xlsx") as err:
        parse_file(path)
    assert err.value.file == str(path)


# -- dispatch ------------------------------------------------------------------------------------


def test_unsupported_suffix_and_unreadable_paths(tmp_path: Path) -> None:
    assert ".vtt" in SUPPORTED_SUFFIXES and ".docx" in SUPPORTED_SUFFIXES
    doc = tmp_path / "old.doc"
    doc.write_bytes(b"x")
    with pytest.raises(InvalidTranscript, match="unsupported file type .doc; save it as .docx"):
        parse_file(doc)
    with pytest.raises(InvalidTranscript, match="file not found") as err:
        parse_file(tmp_path / "missing.txt")
    assert err.value.file == str(tmp_path / "missing.txt")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(InvalidTranscript, match="directory"):
        parse_file(folder)


def test_every_error_is_a_qualcode_error_with_one_line_message(tmp_path: Path) -> None:
    path = write(tmp_path, "x.vtt", "WEBVTT\n\n00:00:01.000 --> bad\nhi\n")
    with pytest.raises(QualcodeError) as err:
        parse_file(path)
    assert "\n" not in str(err.value)


def test_header_line_followed_at_once_by_bold_turns_keeps_the_first_turn(tmp_path: Path) -> None:
    import docx as python_docx

    from qualcode.ingest.docx import parse_docx

    document = python_docx.Document()
    document.add_heading("Interview transcript – wave 1", level=1)
    document.add_paragraph("Site: Lincolnshire")
    for label, text in (("Interviewer:", "Thanks for agreeing to talk to me today."),
                        ("Participant:", "That's fine, happy to help.")):
        para = document.add_paragraph()
        para.add_run(label).bold = True
        para.add_run(" " + text)
    path = tmp_path / "header_then_turns.docx"
    document.save(path)
    parsed = parse_docx(path)
    assert [(t.label, t.text) for t in parsed.turns] == [
        ("Interviewer", "Thanks for agreeing to talk to me today."),
        ("Participant", "That's fine, happy to help."),
    ]
    assert any("Site" in w for w in parsed.warnings)
