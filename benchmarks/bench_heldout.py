"""The analyzer on the held-out real curves (``benchmarks/real_runs/labels_heldout.json``): public logs labelled by
eye before the analyzer ever ran on them and never used to tune it (sources in ``sample_logs/public/README.md``).
Prints the same per-curve lines and totals as the labelled-real section of ``bench_analysis.py``, then, per curve,
whether ``analyze`` and ``watch --replay`` agree on the eruptions. Run with
``OMP_NUM_THREADS=1 python benchmarks/bench_heldout.py``.
"""

from __future__ import annotations

from pathlib import Path

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.analysis.labelled import load_labels, score_labelled
from entropy_dynamics.analysis.stream import replay
from entropy_dynamics.logs import read_runs

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "real_runs" / "labels_heldout.json"


def labelled(curves: list[dict]) -> None:
    """Scores against the eye labels (every curve and every miss / false alarm printed)."""
    score = score_labelled(curves)
    print(f"held-out real curves ({len(score.curves)}): required eruptions found {score.hits}/{score.required} "
          f"(recall {score.recall:.2f}), false alarms {score.false_alarms} (precision {score.precision:.2f}, "
          f"F1 {score.f1:.2f}); phase agreement on labelled ranges {score.phase_agreement:.3f}")
    for c in score.curves:
        print(f"  {c.name[:60]:60s} onsets {c.onsets}  missed {c.misses}  false alarms {c.false_alarms}  "
              f"phases {c.phase_agree}/{c.phase_steps}")
    slack = score_labelled(curves, slack_points=1)
    print(f"  the same, an onset within one logged point of a labelled range counted as inside it: found "
          f"{slack.hits}/{slack.required}, false alarms {slack.false_alarms} (F1 {slack.f1:.2f})")


def live_vs_offline(curves: list[dict]) -> None:
    """Per curve: offline eruption onsets, live (start, confirmed) eruption events, and the offline onsets that have
    no live event starting within that event's confirmation delay."""
    unmatched_total = extra_total = 0
    for curve in curves:
        run = read_runs(curve["path"])[int(curve.get("run", 0))]
        metric = curve.get("metric")
        onsets = [s.start_step for s in analyze_run(run, metric).segments if s.phase == "eruption"]
        events, _ = replay(run, metric)
        live = [(e.start_step, e.confirmed_at_step) for e in events if e.phase == "eruption"]

        def near(onset: int, event: tuple[int, int]) -> bool:
            return abs(event[0] - onset) <= max(event[1] - event[0], 1)

        unmatched = [o for o in onsets if not any(near(o, e) for e in live)]
        extra = [e for e in live if not any(near(o, e) for o in onsets)]
        unmatched_total += len(unmatched)
        extra_total += len(extra)
        print(f"  {curve['name'][:60]:60s} analyze {onsets}  watch --replay {live}  "
              f"offline without live {unmatched}  live without offline {extra}")
    print(f"analyze vs watch --replay: {unmatched_total} offline eruptions without a live one, "
          f"{extra_total} live eruptions without an offline one")


if __name__ == "__main__":
    labels = load_labels(LABELS)
    labelled(labels)
    live_vs_offline(labels)
