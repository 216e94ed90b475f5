"""Train one phenomenon config with the instruments and live phase detection attached.

Usage: ``python configs/phenomenon/run.py CONFIG [key=value ...] [--resume]``

The same loop as ``entropy-dynamics train CONFIG --set key=value`` plus two callbacks: the instruments
(degeneration and hallucination every step; gradient interference and representation separation every
10 steps on 32 samples) and live phase detection (phase events in the log; samples and a checkpoint at an
eruption). Both only measure, so the policy trained is the same.
"""

from __future__ import annotations

import sys

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.instruments import Instruments
from entropy_dynamics.train.live_phase import LivePhase
from entropy_dynamics.train.loop import train


def main(argv: list[str]) -> int:
    resume = "--resume" in argv
    args = [a for a in argv if a != "--resume"]
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        train(load_config(args[0], args[1:]), resume=resume,
              callbacks=[Instruments(every=10, max_samples=32), LivePhase(echo=print)])
    except EntropyDynamicsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
