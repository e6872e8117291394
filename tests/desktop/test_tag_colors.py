"""Tag chips stay visible whatever their colour and the palette: a black tag on a dark
theme, a white one on a light theme."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

from citedesk.widgets import MIN_EDGE_CONTRAST, TagChip, contrast, readable_chip_colors

DARK_WINDOW = QColor("#2b2b2b")


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, DARK_WINDOW),
        (QPalette.ColorRole.WindowText, QColor("#e6e6e6")),
        (QPalette.ColorRole.Base, QColor("#1e1e1e")),
        (QPalette.ColorRole.Text, QColor("#e6e6e6")),
        (QPalette.ColorRole.Button, QColor("#353535")),
        (QPalette.ColorRole.ButtonText, QColor("#e6e6e6")),
        (QPalette.ColorRole.Mid, QColor("#303030")),
    ):
        palette.setColor(role, color)
    return palette


def shown_chip(qtbot, color: str | None, palette: QPalette) -> tuple[QWidget, TagChip]:
    pane = QWidget()
    pane.setPalette(palette)
    pane.setAutoFillBackground(True)
    layout = QHBoxLayout(pane)
    chip = TagChip("important", color)  # made apart, then put in the pane, as the detail pane does
    layout.addWidget(chip)
    layout.addStretch(1)
    qtbot.addWidget(pane)
    pane.resize(300, 60)
    pane.show()
    qtbot.waitExposed(pane)
    return pane, chip


def edge_contrast(pane: QWidget, chip: TagChip) -> float:
    """How much the chip's top edge (its border, mid-width) stands out from the pane."""
    image = pane.grab().toImage()
    ratio = image.width() / pane.width()
    x = int((chip.x() + chip.width() // 2) * ratio)
    y = int(chip.y() * ratio)
    back = pane.palette().color(QPalette.ColorRole.Window)
    return max(contrast(QColor(image.pixel(x, y + dy)), back) for dy in range(2))


def test_a_black_tag_chip_has_a_visible_edge_on_a_dark_palette(qtbot) -> None:
    pane, chip = shown_chip(qtbot, "#000000", dark_palette())
    assert chip.colors().outlined
    assert edge_contrast(pane, chip) >= MIN_EDGE_CONTRAST


def test_a_white_tag_chip_has_a_visible_edge_on_a_light_palette(qtbot) -> None:
    light = QPalette(QColor("#efefef"))
    pane, chip = shown_chip(qtbot, "#ffffff", light)
    assert edge_contrast(pane, chip) >= MIN_EDGE_CONTRAST


def test_a_coloured_chip_keeps_its_own_colour_as_its_edge(qtbot) -> None:
    pane, chip = shown_chip(qtbot, "#2e86de", dark_palette())
    colors = chip.colors()
    assert not colors.outlined and colors.border == QColor("#2e86de")
    assert colors.text == QColor("#ffffff")


def test_the_chip_follows_a_palette_that_turns_dark(qtbot) -> None:
    pane, chip = shown_chip(qtbot, "#000000", QPalette(QColor("#efefef")))
    assert not chip.colors().outlined  # black on a light window shows by itself
    pane.setPalette(dark_palette())
    qtbot.waitUntil(lambda: edge_contrast(pane, chip) >= MIN_EDGE_CONTRAST)


def test_the_helper_outlines_what_would_vanish_into_the_table_background() -> None:
    palette = dark_palette()
    chip = readable_chip_colors("#111111", palette, QPalette.ColorRole.Base)
    assert chip.outlined
    assert contrast(chip.border, palette.color(QPalette.ColorRole.Base)) >= MIN_EDGE_CONTRAST


def test_a_black_tag_swatch_has_a_visible_edge_on_a_dark_sidebar(qapp) -> None:
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from citedesk.models import swatch

    old = QApplication.palette()
    dark = QPalette(old)
    for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):
        dark.setColor(role, QColor("#1e1f22"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        dark.setColor(role, QColor("#dfe1e5"))
    QApplication.setPalette(dark)
    try:
        image = swatch("#000000").pixmap(24, 24).toImage()
    finally:
        QApplication.setPalette(old)
    edge = max(
        QColor(image.pixel(x, 12)).lightness() for x in range(image.width())
    )  # across the middle row: the ring must be lighter than black
    assert edge > 60
