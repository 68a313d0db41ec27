"""Help paragraphs flowed for rich: prose joined, lists and examples kept as written."""

from __future__ import annotations

from lyncpki.cli.help_text import flowed


def test_prose_is_one_line_per_paragraph_and_lists_keep_their_lines() -> None:
    text = """First line
    of a summary.

    A paragraph that goes on
    over --several lines.

    - one item
    - another item

      lyncpki plan t.yaml
      lyncpki deploy t.yaml
    """
    assert flowed(text).split("\n\n") == [
        "First line of a summary.",
        "A paragraph that goes on over --several lines.",
        "- one item\n- another item",
        "  lyncpki plan t.yaml\n  lyncpki deploy t.yaml",
    ]
