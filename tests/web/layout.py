"""What the browser made of a page's layout: words it broke over two lines."""

from __future__ import annotations

from typing import Any

BROKEN_WORDS = """(element) => {
    // the words of the cell that the layout broke over two lines or more
    const broken = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
            if (tops.size > 1) broken.push(match[0]);
        }
    }
    return broken;
}"""


def assert_whole(page: Any, cells: list[Any], width: int) -> None:
    for cell in cells:
        assert page.evaluate(BROKEN_WORDS, cell) == [], (width, cell.inner_text())


def broken_cells(page: Any, selector: str) -> list[tuple[str, list[str]]]:
    """The cells matching `selector` with a word broken inside, and those words."""
    found = []
    for cell in page.query_selector_all(selector):
        words = page.evaluate(BROKEN_WORDS, cell)
        if words:
            found.append((cell.inner_text(), words))
    return found
