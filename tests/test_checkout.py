"""What a test run leaves in the checkout is ignored by git, so it is never committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the embedded servers, and what pytest, Hypothesis and Schemathesis keep between runs
LEFT_BY_TEST_RUNS = [".local/test/", ".pytest_cache/", ".hypothesis/", ".schemathesis/"]


def test_what_test_runs_leave_behind_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [folder + "some-file" for folder in LEFT_BY_TEST_RUNS]
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.stdout.split() == paths
