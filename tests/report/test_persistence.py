from entropy_dynamics.analysis import cross_metric_stats
from entropy_dynamics.report.persistence import persistence_figure, persistence_rows

from .conftest import plan_analysis


def test_persistence_chart_and_rows_from_the_analyzer(full_run):
    analysis = plan_analysis(full_run)
    persistence = cross_metric_stats(full_run, analysis)["persistence"]
    fig = persistence_figure(persistence)
    dup = next(t for t in fig.data if t.name == "degen/sentence_dup_rate")
    stats = persistence["degen/sentence_dup_rate"]
    assert list(dup.y) == [stats["reference_level"], *stats["levels"]]
    assert len(dup.x) == 1 + len(analysis.cycles) and dup.x[1].startswith("C1 subsided")
    assert dup.y[-1] > dup.y[0] + 0.15  # the generated run's duplication never comes back down
    rows = {r["metric"]: r for r in persistence_rows(persistence)}
    assert rows["degen/sentence_dup_rate"]["deltas"].count("+") == 2
    assert rows["halluc/invalid_action_rate"]["deltas"].startswith("-")


def test_no_chart_without_levels():
    assert persistence_figure({"degen/x": {"reference_level": None, "levels": [0.1]}}) is None
    assert persistence_figure({}) is None
