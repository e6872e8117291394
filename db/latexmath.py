"""Simple TeX math to Unicode, for display: ``$\\alpha \\le x_i^2$`` shown as ``α ≤ xᵢ²``.

Titles and abstracts carry a little math; what can be written faithfully in Unicode
(Greek, relations, sub- and superscripts, roots, blackboard letters, function names) is
shown so, and anything else (fractions, arrays) stays as typed. Only what the program
shows uses this; the stored text never changes. :func:`db.latex.display_text` calls it.
"""

from __future__ import annotations

import re

from .bibvalue import braced_end

_GREEK = (
    "alpha α beta β gamma γ delta δ epsilon ϵ varepsilon ε zeta ζ eta η theta θ vartheta ϑ "
    "iota ι kappa κ lambda λ mu μ nu ν xi ξ pi π varpi ϖ rho ρ varrho ϱ sigma σ "
    "varsigma ς tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω Gamma Γ Delta Δ "
    "Theta Θ Lambda Λ Xi Ξ Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω"
).split()
_MATH_SYMBOLS: dict[str, str] = dict(zip(_GREEK[::2], _GREEK[1::2], strict=True))
_MATH_SYMBOLS.update(
    {
        "leq": "≤",
        "le": "≤",
        "geq": "≥",
        "ge": "≥",
        "neq": "≠",
        "ne": "≠",
        "approx": "≈",
        "sim": "∼",
        "simeq": "≃",
        "equiv": "≡",
        "propto": "∝",
        "ll": "≪",
        "gg": "≫",
        "times": "×",
        "cdot": "·",
        "pm": "±",
        "mp": "∓",
        "div": "÷",
        "ast": "∗",
        "star": "⋆",
        "circ": "∘",
        "infty": "∞",
        "top": "⊤",
        "dagger": "†",
        "partial": "∂",
        "nabla": "∇",
        "ell": "ℓ",
        "hbar": "ℏ",
        "to": "→",
        "rightarrow": "→",
        "leftarrow": "←",
        "Rightarrow": "⇒",
        "leftrightarrow": "↔",
        "mapsto": "↦",
        "in": "∈",
        "notin": "∉",
        "subset": "⊂",
        "subseteq": "⊆",
        "cup": "∪",
        "cap": "∩",
        "emptyset": "∅",
        "forall": "∀",
        "exists": "∃",
        "neg": "¬",
        "wedge": "∧",
        "vee": "∨",
        "oplus": "⊕",
        "otimes": "⊗",
        "sum": "∑",
        "prod": "∏",
        "int": "∫",
        "prime": "′",
        "dots": "…",
        "ldots": "…",
        "cdots": "⋯",
        "langle": "⟨",
        "rangle": "⟩",
        "lvert": "|",
        "rvert": "|",
        "mid": "|",
        "vert": "|",
        "Vert": "‖",
        "|": "‖",
        "{": "{",
        "}": "}",
        "%": "%",
        "&": "&",
        "#": "#",
        "_": "_",
        "$": "$",
        ",": "\u2009",
        ";": " ",
        ":": " ",
        " ": " ",
        "!": "",
        "quad": " ",
        "qquad": " ",
        "left": "",
        "right": "",
        "big": "",
        "Big": "",
        "bigl": "",
        "bigr": "",
        "displaystyle": "",
        "textstyle": "",
    }
)
_MATH_FUNCTIONS = {
    "log", "ln", "exp", "sin", "cos", "tan", "max", "min", "sup", "inf", "lim", "arg",
    "det", "dim", "ker", "deg", "gcd", "Pr", "liminf", "limsup", "tanh", "sinh", "cosh",
}  # fmt: skip
#: Commands that set their argument in a font: the argument as it is (double-struck for
#: the usual number sets).
_MATH_FONTS = {
    "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal", "mathscr", "mathfrak",
    "mathbb", "boldsymbol", "bm", "text", "textrm", "textit", "textbf", "mbox",
    "operatorname", "mathnormal",
}  # fmt: skip
_DOUBLE_STRUCK = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "P": "ℙ", "E": "𝔼"}
_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-=() abcdefghijklmnoprstuvwxyzT*′⊤†",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀ*′ᵀ†",
        strict=True,
    )
)
_SUBSCRIPTS = dict(
    zip("0123456789+-=() aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_MATH_COMMANDS_NAMED = re.compile(r"\\([A-Za-z]+|.)")
#: Math longer than this, or nested deeper, is kept as written.
_MATH_MAX_CHARS = 200
_MATH_MAX_DEPTH = 4


def math_to_unicode(tex: str) -> str | None:
    """Inline math (what is between ``$`` signs) as a reader would read it in plain text:
    ``O(n^2)`` → ``O(n²)``, ``\\alpha`` → ``α``, ``\\mathbb{R}^d`` → ``ℝᵈ``. None when it
    holds anything that plain text cannot show faithfully (``\\frac``, a superscript of
    letters with no Unicode form, an unknown command): the caller keeps it as written."""
    if len(tex) > _MATH_MAX_CHARS or "$" in tex:
        return None
    shown = _math(tex, 0)
    return None if shown is None else " ".join(shown.split())


def _math_group(tex: str, i: int) -> tuple[str, int] | None:
    """The argument at ``i`` (a braced group, a command or one character), and its end."""
    n = len(tex)
    while i < n and tex[i] == " ":
        i += 1
    if i >= n:
        return None
    if tex[i] == "{":
        end = braced_end(tex, i)
        return (tex[i + 1 : end], end + 1) if end > 0 else None
    if tex[i] == "}":
        return None
    if tex[i] == "\\":
        m = _MATH_COMMANDS_NAMED.match(tex, i)
        return (m.group(0), m.end()) if m else None
    return tex[i], i + 1


def _math_arg(tex: str, i: int, depth: int) -> tuple[str, int] | None:
    """The argument at ``i`` (see :func:`_math_group`) rendered, and where it ends."""
    found = _math_group(tex, i)
    if found is None:
        return None
    inner = _math(found[0], depth + 1)
    return None if inner is None else (inner, found[1])


def _math(tex: str, depth: int) -> str | None:
    if depth > _MATH_MAX_DEPTH:
        return None
    out: list[str] = []
    i = 0
    n = len(tex)
    while i < n:
        c = tex[i]
        if c == "\\":
            m = _MATH_COMMANDS_NAMED.match(tex, i)
            if m is None:
                return None
            name = m.group(1)
            i = m.end()
            if name in _MATH_SYMBOLS:
                out.append(_MATH_SYMBOLS[name])
            elif name in _MATH_FUNCTIONS:
                out.append(name)
                if i < n and tex[i] not in " ^_({[\\":
                    out.append(" ")  # "\log n" reads "log n" and so does "\log{n}"
            elif name in _MATH_FONTS:
                found = _math_arg(tex, i, depth)
                if found is None:
                    return None
                inner, i = found
                if name == "mathbb":
                    inner = "".join(_DOUBLE_STRUCK.get(ch, ch) for ch in inner)
                out.append(inner)
            elif name == "sqrt":
                found = _math_arg(tex, i, depth)
                if found is None:
                    return None
                inner, i = found
                out.append("√" + (inner if len(inner) == 1 else f"({inner})"))
            else:
                return None
        elif c in "^_":
            found = _math_arg(tex, i + 1, depth)
            if found is None:
                return None
            inner, i = found
            table = _SUPERSCRIPTS if c == "^" else _SUBSCRIPTS
            if not inner or any(ch not in table for ch in inner):
                return None
            out.append("".join(table[ch] for ch in inner))
        elif c == "{":
            found = _math_arg(tex, i, depth)
            if found is None:
                return None
            inner, i = found
            out.append(inner)
        elif c == "}" or c == "&" or c == "%" or c == "#":
            return None
        elif c == "'":
            out.append("′")
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
