"""The guard of the fast subset (tests/guard.py): a test not marked slow that starts a Streamlit server, Chromium
or a Ray cluster fails, saying which mark it needs; marked, it runs. Each case runs in a pytest of its own."""

import pytest

from core.base.paths import ROOT

CASES = '''
import os, subprocess, sys
import pytest

def start_ray_session():  # what a Ray cluster leaves under RAY_TMPDIR when it starts
    name = f"session_2026-12-06_09-00-00_000000_{os.urandom(4).hex()}"
    os.makedirs(os.path.join(os.environ["RAY_TMPDIR"], "ray", name))

def test_a_server_in_a_fast_test():
    subprocess.run([sys.executable, "-m", "streamlit", "run", "--help"], capture_output=True)

@pytest.mark.slow
def test_a_server_in_a_slow_test():
    assert subprocess.run([sys.executable, "-m", "streamlit", "run", "--help"], capture_output=True).returncode == 0

def test_chromium_in_a_fast_test():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        p.chromium.launch(executable_path="/usr/bin/chromium")

def test_ray_in_a_fast_test():
    start_ray_session()

@pytest.mark.slow
def test_ray_in_a_slow_test():
    start_ray_session()

@pytest.mark.browser
def test_a_browser_test_is_slow(request):
    assert request.node.get_closest_marker("slow") is not None

def test_other_processes_in_a_fast_test():
    assert subprocess.run([sys.executable, "-c", "print('streamlit')"], capture_output=True).returncode == 0
'''


def run_guarded(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(f'import sys\nsys.path.insert(0, {str(ROOT)!r})\npytest_plugins = ["tests.guard"]')
    pytester.makeini("[pytest]\nmarkers =\n    slow\n    browser\n")
    pytester.makepyfile(test_cases=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfE", *args)


@pytest.mark.slow
def test_the_guard_fails_the_fast_tests_that_start_a_server_chromium_or_ray_and_says_the_mark(pytester):
    result = run_guarded(pytester, CASES)
    result.assert_outcomes(passed=5, failed=2, errors=1)
    result.stdout.fnmatch_lines_random([
        "*::test_a_server_in_a_fast_test starts a Streamlit server, which the fast subset must not: mark it slow",
        "*::test_chromium_in_a_fast_test starts Chromium, which the fast subset must not: mark it browser",
        "*::test_ray_in_a_fast_test started a Ray cluster (1 under RAY_TMPDIR), which the fast subset must not: "
        "mark it slow",
    ])
    fast = pytester.runpytest_subprocess("-m", "not slow", "--collect-only", "-q").stdout.str()
    assert "test_chromium_in_a_fast_test" in fast and "test_a_browser_test_is_slow" not in fast, fast


@pytest.mark.slow
def test_the_guard_sees_a_real_ray_cluster_started_by_a_subprocess(pytester):
    """Ray keeps a cluster's files under RAY_TMPDIR, so ``python -m core run`` in a fast test would trip it."""
    result = run_guarded(pytester, '''
import subprocess, sys

def test_a_subprocess_starts_ray():
    code = "import ray; ray.init(num_cpus=1, include_dashboard=False); ray.shutdown()"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
''')
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*::test_a_subprocess_starts_ray started a Ray cluster (1 under RAY_TMPDIR)*"])
