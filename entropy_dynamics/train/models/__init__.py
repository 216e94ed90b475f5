"""Models: presets and the trained :class:`Policy`, the optimizer and seeding, the tokenizer, the shared-prompt
forward.

The names of the former ``entropy_dynamics.train.models`` module (now :mod:`.policy`) are re-exported here.
"""

from entropy_dynamics.train.models.policy import (
    SMOLLM2_FILE,
    SMOLLM2_INSTALL,
    SMOLLM2_PACKAGE,
    Policy,
    ValueHead,
    build_policy,
    build_tiny_lm,
    load_lm_and_tokenizer,
    resolve_device,
    resolve_dtype,
)

__all__ = ["SMOLLM2_FILE", "SMOLLM2_INSTALL", "SMOLLM2_PACKAGE", "Policy", "ValueHead", "build_policy",
           "build_tiny_lm", "load_lm_and_tokenizer", "resolve_device", "resolve_dtype"]
