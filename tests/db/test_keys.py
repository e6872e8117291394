"""Citation keys from patterns."""

from __future__ import annotations

import pytest

from citedesk.db.keys import DEFAULT_PATTERN, KeyPatternError, format_key, unique_key
from citedesk.db.names import parse_names

PEOPLE = parse_names("Wang, Mingze and Sun, Huixin and others")
TITLE = "Q-YOLO: Efficient Inference for Real-time Object Detection"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (DEFAULT_PATTERN, "wang2023qyolo"),
        ("[auth][year]", "Wang2023"),
        ("[auth:upper]_[year]", "WANG_2023"),
        ("[authors2][year]", "WangSunEtAl2023"),
        ("[authors][year]", "WangSun2023"),
        ("[auth:lower][veryshorttitle]", "wangqyolo"),
        ("[title]", "QYOLOEfficientInferenceRealtimeObjectDetection"),
    ],
)
def test_pattern_tokens(pattern: str, expected: str) -> None:
    assert format_key(pattern, PEOPLE, "2023", TITLE) == expected


def test_shorttitle_skips_function_words_and_folds_accents() -> None:
    people = parse_names('M{\\"u}ller, J{\\"o}rg')
    key = format_key(DEFAULT_PATTERN, people, "2020", "On the Théorie of the Élan Vital")
    assert key == "muller2020theorieelanvital"


def test_unknown_token_is_refused() -> None:
    with pytest.raises(KeyPatternError, match=r"\[journal\]"):
        format_key("[journal]", PEOPLE, "2023", TITLE)


def test_unique_key_suffixes() -> None:
    taken = {"k", "ka", "kb"}
    assert unique_key("k", taken.__contains__) == "kc"
    assert unique_key("new", taken.__contains__) == "new"
    many = {"k"} | {"k" + chr(c) for c in range(ord("a"), ord("z") + 1)}
    assert unique_key("k", many.__contains__) == "kaa"
