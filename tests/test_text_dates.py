import unicodedata

import pytest

from repository.dates import DateError, decades, parse_date
from repository.text import clean, fold, slugify, words


@pytest.mark.parametrize("a, b", [
    ("Đồng Tháp", "dong thap"), ("ĐỒNG THÁP", "dong thap"), ("hoà bình", "hòa bình"),
    ("Thuý", "thúy"), ("Thụy", "Thuỵ"), ("Sa Đéc", "sa dec"),
    (unicodedata.normalize("NFD", "Cao Lãnh"), "Cao Lãnh"),
])
def test_fold_makes_vietnamese_variants_equal(a, b):
    assert fold(a) == fold(b)


def test_fold_removes_marks_but_keeps_letters():
    assert fold("Tháp") == fold("Thắp") == "thap"
    assert fold("Đồng") == fold("Dòng") == "dong"
    assert fold("Mỹ Tho") == "my tho"
    assert fold("Mỹ Tho") != fold("Mỹ Thọ Đông")


def test_words_and_slug():
    assert words("Sa-Đéc, 1925!") == ["sa", "dec", "1925"]
    assert slugify("Tài liệu địa chí Đồng Tháp") == "tai-lieu-dia-chi-dong-thap"


def test_clean_removes_controls_and_normalises():
    assert clean("a\x00b\u200b  c\n") == "a b c"
    assert clean(unicodedata.normalize("NFD", "Việt")) == "Việt"


@pytest.mark.parametrize("text, start, end, approx", [
    ("1925", 1925, 1925, False), ("năm 1925", 1925, 1925, False),
    ("1925-03-14", 1925, 1925, False), ("14/03/1925", 1925, 1925, False),
    ("1920-1930", 1920, 1930, False), ("1920–1930", 1920, 1930, False),
    ("khoảng 1920", 1920, 1920, True), ("ca. 1920", 1920, 1920, True),
    ("1920?", 1920, 1920, True), ("thập niên 1920", 1920, 1929, False),
    ("1920s", 1920, 1929, False), ("192x", 1920, 1929, False),
    ("thế kỷ XIX", 1801, 1900, False), ("thế kỷ 19", 1801, 1900, False),
    ("19th century", 1801, 1900, False),
])
def test_parse_date(text, start, end, approx):
    date = parse_date(text)
    assert (date["start"], date["end"], date["approximate"]) == (start, end, approx)
    assert date["display"] == text


@pytest.mark.parametrize("text", ["abc", "1930-1920", "31/02/1925", "3000", "thế kỷ L",
                                  "1925-13", ""])
def test_bad_dates_are_refused_with_a_reason(text):
    with pytest.raises(DateError) as exc:
        parse_date(text)
    assert str(exc.value)


def test_decades():
    assert decades(parse_date("1915-1925")) == [1910, 1920]
    assert decades(parse_date("thế kỷ XIX")) == []
    assert decades(None) == []
