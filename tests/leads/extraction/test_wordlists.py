"""The word lists the rules read from `rules/words/`: the file format, and every shipped list."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from leads.extraction import wordlists

SHIPPED = sorted(p.stem for p in wordlists.FOLDER.glob("*.txt"))
# Lists whose lines are regex alternatives, not plain words.
REGEX_LISTS = ("people_nouns", "role_words", "seat_nouns")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty word-list folder in place of the shipped one, with nothing cached."""
    monkeypatch.setattr(wordlists, "FOLDER", tmp_path)
    wordlists.ordered.cache_clear()
    wordlists.words.cache_clear()
    yield tmp_path
    wordlists.ordered.cache_clear()
    wordlists.words.cache_clear()


def test_a_list_skips_comments_blank_lines_and_surrounding_spaces(folder: Path) -> None:
    (folder / "greetings.txt").write_text("# Greetings.\n\nhi\n  hello there  \n# hey\n")
    assert wordlists.ordered("greetings") == ("hi", "hello there")


def test_a_list_keeps_the_order_of_its_file(folder: Path) -> None:
    (folder / "units.txt").write_text("weeks\nweek\ndays\n")
    assert wordlists.ordered("units") == ("weeks", "week", "days")


def test_a_list_is_read_as_utf8(folder: Path) -> None:
    (folder / "titles.txt").write_bytes("geschäftsführerin\n".encode())
    assert wordlists.words("titles") == frozenset(["geschäftsführerin"])


def test_an_alternation_joins_the_entries_in_order(folder: Path) -> None:
    (folder / "nouns.txt").write_text("seats?\nusers?\nnutzer(?:innen)?\n")
    assert wordlists.alternation("nouns") == "seats?|users?|nutzer(?:innen)?"


def test_a_mapping_reads_key_value_lines(folder: Path) -> None:
    (folder / "labels.txt").write_text("# label: field\nfull name: name\nfirma : company\n")
    assert wordlists.mapping("labels") == {"full name": "name", "firma": "company"}


def test_a_mapping_line_without_a_value_is_an_error(folder: Path) -> None:
    (folder / "labels.txt").write_text("full name\n")
    with pytest.raises(ValueError, match="'full name' is not a `key: value` line"):
        wordlists.mapping("labels")


def test_an_unknown_list_names_the_known_ones(folder: Path) -> None:
    (folder / "greetings.txt").write_text("hi\n")
    with pytest.raises(FileNotFoundError, match=r"no word list 'greeting' .*known: greetings"):
        wordlists.ordered("greeting")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_list_has_entries_and_no_stray_spaces(name: str) -> None:
    entries = wordlists.ordered(name)
    assert entries
    assert all(e == e.strip() and "  " not in e for e in entries)


@pytest.mark.parametrize("name", REGEX_LISTS)
def test_every_regex_line_is_one_alternative_that_compiles(name: str) -> None:
    for entry in wordlists.ordered(name):
        assert "|" not in entry
        re.compile(entry)  # an unbalanced group would break the whole alternation


def test_the_time_units_name_only_known_units() -> None:
    units = set(wordlists.mapping("time_units").values())
    assert units == {"day", "week", "month", "quarter", "year"}


def test_the_package_ships_the_lists() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["leads"]
    assert "extraction/rules/words/*.txt" in shipped
    assert SHIPPED  # and the glob finds them where the loader looks
