"""Property tests: parsers either return a transcript or raise a QualcodeError, never crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.errors import QualcodeError
from qualcode.ingest.decode import decode_bytes
from qualcode.ingest.model import ParsedTranscript
from qualcode.ingest.roles import CANONICAL_ROLES, RoleMap
from qualcode.ingest.text import parse_text
from qualcode.ingest.vtt import parse_srt, parse_vtt

FAST = settings(max_examples=200, deadline=None)

# Text biased towards the shapes the parsers look for: labels, colons, brackets, times.
pieces = st.sampled_from(
    ["Int", "IPS ES", ":", " ", "\n", "\n\n", "[", "]", "(", ")", "**", "__", "00:01:23", "1:02", " - ",
     "-->", "Site", "Participant", "<v Luke>", "</v>", "WEBVTT", "0", "&amp;", "\t", "\r", "é", "\u2028"]
)
shaped_text = st.lists(st.one_of(pieces, st.text(max_size=8)), max_size=40).map("".join)


def check_text(result: object) -> None:
    assert isinstance(result, ParsedTranscript)
    assert result.turns
    for turn in result.turns:
        assert turn.text and turn.text == turn.text.strip()
        assert "\n\n" not in turn.text
        assert turn.line >= 1


@FAST
@given(st.one_of(st.text(), shaped_text))
def test_parse_text_returns_or_raises_qualcode_error(text: str) -> None:
    try:
        result = parse_text(text, "prop.txt")
    except QualcodeError:
        return
    check_text(result)


@FAST
@given(st.one_of(st.text(), shaped_text))
def test_caption_parsers_return_or_raise_qualcode_error(text: str) -> None:
    for parser, prefix in ((parse_vtt, "WEBVTT\n\n"), (parse_srt, "1\n")):
        for candidate in (text, prefix + text):
            try:
                result = parser(candidate, "prop")
            except QualcodeError:
                continue
            assert isinstance(result, ParsedTranscript) and result.turns


@FAST
@given(st.binary())
def test_decode_bytes_returns_or_raises_qualcode_error(data: bytes) -> None:
    try:
        text, encoding = decode_bytes(data, "prop.bin")
    except QualcodeError:
        return
    assert encoding in {"utf-8", "utf-8-sig", "utf-16", "cp1252"}
    assert text.strip() and "\r" not in text and "\x00" not in text


@FAST
@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=20)))
def test_role_resolution_always_gives_a_canonical_role(label: str, document: str | None) -> None:
    assert RoleMap.load().resolve(label, document) in CANONICAL_ROLES
