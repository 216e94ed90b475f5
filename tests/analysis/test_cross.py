import numpy as np

from entropy_dynamics.analysis import analyze_run, cross_metric_stats, fit_entropy_reward
from entropy_dynamics.analysis.synthetic import make_run
from entropy_dynamics.logs import frame_to_run


def test_fit_recovers_known_coefficients():
    h = np.linspace(0.1, 2.0, 200)
    reward = -0.3 * np.exp(h) + 2.0
    fit = fit_entropy_reward(h, reward)
    assert np.isclose(fit["a"], 0.3) and np.isclose(fit["b"], 2.0) and fit["r2"] > 0.999 and fit["n"] == 200


def test_fit_with_too_few_points_or_constant_entropy_says_why():
    fit = fit_entropy_reward(np.array([0.1, np.nan]), np.array([1.0, 2.0]))
    assert fit["a"] is None and fit["n"] == 1 and "too few" in fit["reason"]
    fit = fit_entropy_reward(np.full(10, 0.5), np.arange(10.0))
    assert fit["r2"] is None and "constant" in fit["reason"]


def test_fit_on_entropy_too_large_for_exp_says_why_and_report_draws_the_run(tmp_path, capsys):
    """A token-summed entropy (hundreds of nats) overflows exp(H): the fit says so instead of crashing, and
    `report` still draws the run (it exited 1 with numpy's LinAlgError)."""
    from entropy_dynamics.cli.main import main
    from entropy_dynamics.logs import MetricLogWriter

    rng = np.random.default_rng(0)
    h = 800 + 300 * rng.random(60)
    fit = fit_entropy_reward(h, rng.random(60))
    assert fit["a"] is None and fit["n"] == 60 and "overflows" in fit["reason"]
    log = tmp_path / "run" / "metrics.jsonl"
    log.parent.mkdir()
    with MetricLogWriter(log) as writer:
        writer.header("summed", config={}, versions={})
        for step, (value, reward) in enumerate(zip(h, rng.random(60), strict=True), start=1):
            writer.metrics(step, {"policy/entropy": float(value), "reward/mean": float(reward)})
    assert main(["report", str(log), "--out", str(tmp_path / "r.html")]) == 0
    assert main(["analyze", str(log), "--cross-metrics", "--format", "json"]) == 0
    capsys.readouterr()


def test_cross_metrics_on_a_synthetic_run_with_known_relations():
    run = make_run("x", n_points=1500, n_cycles=3, seed=1, with_metrics=True, lead_steps=20)
    analysis = analyze_run(run, cross_metrics=True)
    stats = analysis.extra["cross_metrics"]
    assert stats == cross_metric_stats(run, analysis)
    assert set(stats["per_phase"]) == {"reward/mean", "degen/sentence_dup_rate", "interference/grad_cos_pos_neg",
                                       "repr/inter_cos"}
    cos = stats["per_phase"]["interference/grad_cos_pos_neg"]
    assert cos["eruption"] < cos["plateau"]
    assert len(stats["per_cycle"]) == len(analysis.cycles) == 3
    lead = stats["lead_lag"]["interference/grad_cos_pos_neg"]
    assert lead["median_lag"] is not None and -40 <= lead["median_lag"] < 0
    dup = stats["persistence"]["degen/sentence_dup_rate"]
    assert all(p > 0 for p in dup["persistence"]) and dup["spearman_rho"] > 0 and dup["accumulates"]
    assert stats["entropy_reward_fit"]["r2"] > 0.8 and stats["entropy_reward_fit"]["a"] > 0


def test_persistence_that_does_not_grow_is_not_accumulation():
    run = make_run("x", n_points=1500, n_cycles=3, seed=1, with_metrics=True)
    frame = run.metrics.copy()
    frame["halluc/rate"] = 0.1 + np.random.default_rng(0).normal(0, 0.005, len(frame))
    analysis = analyze_run(frame_to_run("y", "mem", "test", frame))
    result = cross_metric_stats(frame_to_run("y", "mem", "test", frame), analysis)["persistence"]["halluc/rate"]
    assert not result["accumulates"]


def test_a_constant_reward_fits_without_scipys_covariance_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the caller sees no OptimizeWarning: the fit just has no R²
        fit = fit_entropy_reward(np.linspace(0.1, 1.0, 20), np.full(20, 0.3))
    assert fit["r2"] is None and fit["n"] == 20
