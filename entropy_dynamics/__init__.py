"""entropy-dynamics: see what agent RL training is doing, and fix the failure it finds.

Implements *Cyclical Entropy Eruption: Entropy Dynamics in Agent Reinforcement Learning*
(Li, Im, Li, arXiv 2605.27954): log readers, a phase analyzer, HTML reports, diagnostics and a
GRPO-family trainer with SEAL.

The analysis side (``logs``, ``analysis``, ``report``) never imports torch.
"""

__version__ = "0.1.0"

from entropy_dynamics import _moved

_moved.install()
