"""A guard against PySide6 6.12.0's reference-count bug on Python 3.11.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11.7): every call of a Qt method that
returns nothing (``QTimer.start``, ``QLabel.setText``, ``QSpinBox.setValue`` ...) or returns
a null object as None takes one reference from ``None`` without giving it back. ``None``
starts with about 5,500 references, so after some five thousand such calls the interpreter
aborts with "Fatal Python error: none_dealloc" -- a window used for a while would crash and
lose what was not yet saved. (NOTES.md records the same bug for QStandardItemModel.)

Python 3.12 made ``None``, ``True`` and ``False`` immortal; on older CPython this module
gives them a reference count so large (2**40) that no session can use it up. It changes
nothing else and is a no-op where the bug cannot bite.
"""

from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40
_done = False


def guard_singletons() -> None:
    """Make None, True and False effectively immortal on CPython < 3.12 (once)."""
    global _done
    if _done or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython.
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA
    _done = True
