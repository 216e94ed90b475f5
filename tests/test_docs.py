"""The docs: the config reference is generated from the config's own help text and up to date; the README
stays short and links only to pages that exist; no reference to files outside the repository."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_config_reference_is_up_to_date():
    generator = _module(DOCS / "gen_config_reference.py")
    assert generator.PAGE.read_text(encoding="utf-8") == generator.render(), \
        "docs/config-reference.md is stale: run `python docs/gen_config_reference.py`"


def test_the_config_reference_lists_every_key_with_its_help():
    from entropy_dynamics.train.config import SealConfig, TrainConfig

    page = (DOCS / "config-reference.md").read_text(encoding="utf-8")
    assert "| `lr` |" in page and "| `seal.coef` | `0.0` |" in page
    assert SealConfig.__dataclass_fields__["coef"].metadata["help"].split(";")[0] in page
    assert all(f"`{name}`" in page for name in TrainConfig.__dataclass_fields__)


def test_the_readme_is_short_and_its_links_resolve():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\((?!https?:)([^)#\s]+)", readme):
        assert (REPO / target).exists(), target


def test_the_home_page_is_the_readme_with_links_into_the_docs_folder():
    hooks = _module(DOCS / "hooks.py")
    home = hooks.readme_as_home((REPO / "README.md").read_text(encoding="utf-8"))
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", home):
        assert (DOCS / target).exists(), target


def test_no_reference_to_files_outside_the_repository():
    texts = [*REPO.glob("*.md"), *DOCS.glob("*.md"), *REPO.glob("entropy_dynamics/**/*.py"), *REPO.glob("cli/*.py"),
             *REPO.glob("configs/**/*.yaml")]
    stale = [str(p.relative_to(REPO)) for p in texts if re.search(r"shared/(docs|research)/", p.read_text("utf-8"))]
    assert stale == []


def test_the_results_numbers_are_computed_from_the_shipped_logs():
    generator = _module(DOCS / "gen_results.py")
    assert generator.PAGE.read_text(encoding="utf-8") == generator.render(), \
        "docs/results-numbers.md is stale: run `python docs/gen_results.py`"


def test_the_seal_question_numbers_are_computed_from_the_shipped_logs():
    generator = _module(DOCS / "gen_seal_question.py")
    assert generator.PAGE.read_text(encoding="utf-8") == generator.render(), \
        "docs/seal-question-numbers.md is stale: run `python docs/gen_seal_question.py`"
    readme = generator.README.read_text(encoding="utf-8")
    assert generator.with_readme_block(readme, generator.readme_block()) == readme, \
        "README.md's SEAL-question table is stale: run `python docs/gen_seal_question.py`"
    results = generator.RESULTS.read_text(encoding="utf-8")
    assert generator.with_block(results, generator.claims_block(), generator.CLAIMS_START,
                                generator.CLAIMS_END) == results, \
        "docs/results.md's table of SEAL claims is stale: run `python docs/gen_seal_question.py`"


def test_a_seal_claim_is_supported_or_contradicted_only_at_p_below_alpha_in_its_direction():
    verdict = _module(DOCS / "gen_seal_question.py").claim_verdict
    low, high = [1.0, 2.0, 1.0], [3.0, 4.0, 5.0]
    assert verdict(low, high, 0.01, -1) == "**supported**"          # lower, as claimed
    assert verdict([1.0, 2.0, 300.0], high, 0.01, -1) == "**supported**"  # ranks lower, though its mean is higher
    assert verdict(high, low, 0.01, -1) == "**contradicted**"       # higher, against the claim
    assert verdict(low, high, 0.20, -1) == "not shown (n = 3 vs 3)"
    assert verdict([8.4], [], float("nan"), -1) == "untestable: no value in one arm (n = 1 vs 0)"
    assert verdict([0.0] * 3, [0.0] * 3, 1.0, +1) == "untestable: every run of both arms at 0 (n = 3 vs 3)"


def test_a_collapse_hypothesis_needs_a_difference_fisher_can_call_at_this_n():
    gen = _module(DOCS / "gen_seal_question.py")
    assert gen.fisher_threshold(5, 6, 6) == 0      # 0/6 vs 5/6: p = 0.015
    assert gen.fisher_threshold(4, 6, 6) is None   # 0/6 vs 4/6: p = 0.061, never below 0.05
    q = {"arm": "a", "control": "c", "collapsed": {"a": [0, 6], "c": [6, 6]}, "collapse_fisher_p": 0.002,
         "final_success": {"mannwhitney_p": 0.5, "rank_direction": 1, "difference": {"diff": 0.1}}}
    assert gen.hypothesis_verdict(q) == "**supported**"
    q["final_success"] = {"mannwhitney_p": 0.01, "rank_direction": -1, "difference": {"diff": -0.2}}
    assert gen.hypothesis_verdict(q) == "**contradicted**"  # fewer collapses, but lower success
    # the rank test's direction decides, not the means (one far-out run can make the mean point the other way)
    q["collapse_fisher_p"] = 0.5
    q["final_success"] = {"mannwhitney_p": 0.01, "rank_direction": 1, "difference": {"diff": -0.2}}
    assert gen.hypothesis_verdict(q) == "**supported**"


def test_every_decimal_in_the_results_prose_is_a_generated_number_rounded():
    """docs/results.md's hand-written sentences and tables quote the generated pages; each decimal they give must
    be one of those pages' numbers, rounded to the decimals shown (a stale or mistyped copy fails)."""
    number = r"(?<![\w.])\d+\.\d+(?![\w.])"
    prose = (DOCS / "results.md").read_text(encoding="utf-8")
    prose = re.sub(r"<!-- seal-claims: generated.*?<!-- seal-claims: end -->", "", prose, flags=re.S)
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)
    generated = [float(x) for page in ("results-numbers.md", "seal-question-numbers.md")
                 for x in re.findall(number, (DOCS / page).read_text(encoding="utf-8"))]
    quoted = set(re.findall(number, prose))
    assert len(quoted) > 20
    for text in quoted:
        decimals = len(text.split(".")[1])
        assert any(round(value, decimals) == float(text) for value in generated), text
