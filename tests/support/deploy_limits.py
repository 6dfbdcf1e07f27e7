"""What deploy.sh gives each function, read from its own `resources_for` (so a test or a benchmark
holds a function to the limit it is deployed with, not to a copy of it)."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@cache
def deployed_seconds(function: str) -> int:
    """The function's --timeout in seconds."""
    script = f'eval "$(sed -n "/^resources_for()/,/^}}/p" deploy.sh)"; resources_for {function}'
    flags = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return int(re.search(r"--timeout (\d+)s", flags).group(1))
