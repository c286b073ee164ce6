"""`python bench/run.py` — the same as `python -m bench`."""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
runpy.run_module("bench", run_name="__main__")
