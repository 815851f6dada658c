"""Imports tools/build_book.py for the tests (tools/ is not a package)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import build_book  # noqa: E402,F401
