"""A test whose data is missing skips where the data may be missing, saying what is missing, and fails in CI
(``VP_REQUIRE_DATA=1``, set by .ci/run), so a CI machine without the data cannot pass by skipping (tests/needs.py)."""

import pytest

from tests.needs import REQUIRE_ENV, require_data


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("VP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))  # and no Keras cache of the data sets
    return tmp_path


def test_a_test_whose_data_is_missing_skips_saying_what_is_missing(no_data, monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"needs cifar10.npz and unipen_dev_letters.jsonl in VP_DATA_DIR "
                                                    f"[(]{no_data}[)]$"):
        require_data("cifar10", "unipen_dev_letters.jsonl")


def test_it_fails_where_the_data_must_be(no_data, monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="needs greek_letters in VP_DATA_DIR .* VP_REQUIRE_DATA=1"):
        require_data("greek")
    (no_data / "greek_letters" / "train").mkdir(parents=True)
    (no_data / "unipen_dev_letters.jsonl").touch()
    require_data("greek", "unipen_dev_letters.jsonl")  # both here: nothing to say


CASES = '''
import pytest
from tests.needs import needs_data

@needs_data("cifar10")
def test_reads_cifar(load):
    pass

@pytest.fixture
def load():
    raise AssertionError("the mark is checked before the test's fixtures read the data")
'''


@pytest.mark.slow  # two pytest sessions
@pytest.mark.parametrize("required", ["", "1"])
def test_the_needs_data_mark_skips_or_fails_before_the_fixtures(pytester, no_data, monkeypatch, required):
    from core.base.paths import ROOT

    pytester.makeconftest(f'import sys\nsys.path.insert(0, {str(ROOT)!r})\npytest_plugins = ["tests.needs"]')
    pytester.makeini("[pytest]\nmarkers =\n    needs_data\n")
    pytester.makepyfile(test_cases=CASES)
    monkeypatch.setenv(REQUIRE_ENV, required)
    result = pytester.runpytest_subprocess("-rsf", "-p", "no:cacheprovider")
    if required:
        result.assert_outcomes(errors=1)  # at setup: the run fails
        result.stdout.fnmatch_lines(["*needs cifar10.npz in VP_DATA_DIR*VP_REQUIRE_DATA=1 says the data must be here"])
    else:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["SKIPPED*needs cifar10.npz in VP_DATA_DIR*"])
