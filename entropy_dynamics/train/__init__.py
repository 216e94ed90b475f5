"""The GRPO-family (+ SEAL) trainer for Hugging Face causal LMs on text games.

- :mod:`~entropy_dynamics.train.config`, :mod:`~entropy_dynamics.train.config_io`: the documented
  ``TrainConfig`` and its YAML loading / validation (torch-free).
- :mod:`~entropy_dynamics.train.algorithms`: the maths: advantage estimators and policy losses (with their
  registry), credit assignment, SEAL.
- :mod:`~entropy_dynamics.train.rollout`: playing the games: sampling replies, batching the games, prompts.
- :mod:`~entropy_dynamics.train.run`: the run loop: update, checkpoints, distributed, callbacks, live phase
  detection, the paper's instruments.
- :mod:`~entropy_dynamics.train.models`: model presets, the policy (+ SEAL / value heads), tokenizer, the
  shared-prompt forward.
- :mod:`~entropy_dynamics.train.sft`: the SFT warm start.

Old flat module paths (``entropy_dynamics.train.loop`` ...) still import: see :mod:`entropy_dynamics._moved`.
"""
