"""Playing the games: the episodes of a step, reply sampling, the game pool, conversation prompts.

The names of the former ``entropy_dynamics.train.rollout`` module (now :mod:`.play`) are re-exported here.
"""

from entropy_dynamics.train.rollout.play import (
    Episode,
    EpisodeOutcome,
    RolloutBatch,
    RolloutSettings,
    TurnSample,
    all_admissible,
    decode_reply,
    encode_prompt,
    play,
    rollout_metrics,
    turn_prompt,
)

__all__ = ["Episode", "EpisodeOutcome", "RolloutBatch", "RolloutSettings", "TurnSample", "all_admissible",
           "decode_reply", "encode_prompt", "play", "rollout_metrics", "turn_prompt"]
