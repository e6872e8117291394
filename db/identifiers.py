"""Identifiers of works found in entries: which of them are worth matching papers on."""

from __future__ import annotations

import re

#: A DOI worth matching on: ``10.`` then a registrant code, a slash and a suffix with a
#: letter or digit in it. Placeholders (``????``, ``10.1000/-``, ``TODO``) are not.
_DOI = re.compile(r"10\.\d{4,9}/\S*[A-Za-z0-9]\S*")


def is_doi(text: str) -> bool:
    """True when ``text`` is a well-formed DOI (``10.1234/abc``), not a placeholder."""
    return _DOI.fullmatch(text.strip()) is not None
