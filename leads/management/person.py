"""The options by which the data-subject commands (erase_person, export_person) find a person."""

from __future__ import annotations

from typing import Any


def person_arguments(parser: Any) -> None:
    """--email, --phone and --region (for a phone written without its country code)."""
    parser.add_argument("--email", default="")
    parser.add_argument("--phone", default="")
    parser.add_argument(
        "--region", default="US", help="for a phone without country code (default US)"
    )
