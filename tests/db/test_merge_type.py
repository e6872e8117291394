"""Merging duplicates keeps a type that fits the venue the merged entry ends up with."""

from __future__ import annotations

from pathlib import Path

from citedesk.db import Library

PREPRINT = """@misc{wang2023preprint, author = {Wang, Li},
  title = {Quantized detectors for edge devices}, year = 2023, eprint = {2307.04816},
  howpublished = {arXiv}}
"""
PROCEEDINGS = """@inproceedings{wang2023acpr, author = {Wang, Li},
  title = {Quantized detectors for edge devices}, year = 2023,
  booktitle = {Proceedings of the Asian Conference on Pattern Recognition}, pages = {307--321}}
"""
JOURNAL = """@article{wang2023journal, author = {Wang, Li},
  title = {Quantized detectors for edge devices}, year = 2023,
  journal = {Pattern Recognition}, volume = 12}
"""


def library_with(tmp_path: Path, *texts: str) -> Library:
    lib = Library.open(tmp_path / "library.sqlite", seed=False)
    for text in texts:
        report = lib.import_text(text)
        assert report.ok, report.failures
    return lib


def test_a_misc_merged_with_an_inproceedings_copy_becomes_inproceedings(tmp_path: Path) -> None:
    lib = library_with(tmp_path, PREPRINT, PROCEEDINGS)
    keep, other = lib.id_for_key("wang2023preprint"), lib.id_for_key("wang2023acpr")
    lib.merge_papers(keep, [other])
    merged = lib.paper(keep)
    assert merged.entry_type == "inproceedings"
    assert lib.entry_text(keep).startswith("@inproceedings{wang2023preprint,")
    assert "booktitle" in dict(merged.fields)
    lib.close()


def test_a_misc_merged_with_an_article_copy_becomes_an_article(tmp_path: Path) -> None:
    lib = library_with(tmp_path, PREPRINT, JOURNAL)
    keep, other = lib.id_for_key("wang2023preprint"), lib.id_for_key("wang2023journal")
    lib.merge_papers(keep, [other])
    assert lib.paper(keep).entry_type == "article"
    lib.close()


def test_an_article_keeps_its_type_when_a_proceedings_copy_adds_a_booktitle(
    tmp_path: Path,
) -> None:
    lib = library_with(tmp_path, JOURNAL, PROCEEDINGS)
    keep, other = lib.id_for_key("wang2023journal"), lib.id_for_key("wang2023acpr")
    lib.merge_papers(keep, [other])
    assert lib.paper(keep).entry_type == "article"  # its journal fits it
    lib.close()


def test_a_misc_that_gains_only_a_school_becomes_a_thesis(tmp_path: Path) -> None:
    custom = PREPRINT.replace("@misc{wang2023preprint", "@unpublished{wang2023thesis").replace(
        "howpublished = {arXiv}", "school = {Tsinghua University}, note = {Draft}"
    )
    lib = library_with(tmp_path, PREPRINT, custom)
    keep, other = lib.id_for_key("wang2023preprint"), lib.id_for_key("wang2023thesis")
    lib.merge_papers(keep, [other])
    # Neither @misc nor @unpublished holds a school: the school says what it is.
    assert lib.paper(keep).entry_type == "phdthesis"
    lib.close()


def test_undoing_the_merge_gives_the_kept_paper_its_type_and_text_back(tmp_path: Path) -> None:
    lib = library_with(tmp_path, PREPRINT, PROCEEDINGS)
    keep, other = lib.id_for_key("wang2023preprint"), lib.id_for_key("wang2023acpr")
    before = lib.entry_text(keep)
    changes = lib.merge_papers(keep, [other])
    assert changes.undo is not None
    lib.undo(changes.undo)
    assert lib.paper(keep).entry_type == "misc"
    assert lib.entry_text(keep) == before
    assert lib.paper(other).entry_type == "inproceedings"
    lib.close()
