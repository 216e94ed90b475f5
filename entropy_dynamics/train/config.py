"""The trainer's configuration: one documented dataclass (with small nested sections).

Every field carries its meaning in ``metadata["help"]`` (TRL ``GRPOConfig`` style). Load with
:func:`entropy_dynamics.train.config_io.load_config`, which reads YAML and applies ``--set key=value``
overrides; building the config runs :func:`~entropy_dynamics.train.config_checks.validate` (unknown keys and
bad values raise a one-line ``ConfigError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from entropy_dynamics.phase_watch import ERUPTION_REACTIONS
from entropy_dynamics.train.algorithms.registry import ADV_ESTIMATORS, AGG_MODES, POLICY_LOSSES
from entropy_dynamics.train.config_checks import validate

PRESETS = ("tiny", "smollm2-135m")


def _f(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with a documented meaning."""
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class SealConfig:
    """SEAL: an MLP head on the final hidden states of the response tokens, trained with BCE against
    the label "advantage >= 0" and added to the policy loss (paper section 2, official code)."""

    coef: float = _f(0.0, "SEAL loss coefficient; 0 turns SEAL off. The paper uses 0.02 (`seal: on` sets 0.02).")
    num_layers: int = _f(3, "Linear layers in the head (official `porj_layer`: 3 or 6).")
    dropout: float = _f(0.1, "Dropout inside the head's hidden blocks.")
    zero_adv_label: Any = _f(1.0, "Label of tokens with advantage exactly 0: 1.0 (parity), 0.0, or 'ignore'.")  # noqa: RUF009
    detach_backbone: bool = _f(False, "Ablation: stop the SEAL gradient at the backbone (head trains alone).")
    label_source: str = _f("adv_sign", "'adv_sign' (parity: sign of the policy advantage) or 'episode_success'.")
    pooling: str = _f("token", "'token' (parity: per-token BCE) or 'turn_mean' (mean-pool each sample; ablation).")
    position_offset: int = _f(0, "0 = states AT the response tokens (parity); -1 = the states predicting them.")
    penalty_only: str = _f("label", "Samples of groups where no episode won (their advantage comes from "
                                    "invalid-action penalties alone): 'label' them like any other (parity) or "
                                    "'ignore' them in the SEAL loss.")


@dataclass
class InstrumentsConfig:
    """The paper's instruments inside the loop (:class:`~entropy_dynamics.train.run.instruments.Instruments`):
    degeneration and hallucination of the rollout texts every step; gradient interference and representation
    separation every ``every`` steps (their cost is logged as ``perf/diagnostics_s``)."""

    enabled: bool = _f(True, "Measure the instruments (`instruments: off` turns them off).")
    every: int = _f(10, "Measure interference and separation on steps 1, 1 + every, 1 + 2 x every, ...")
    max_samples: int = _f(32, "Turn samples (half positive, half negative advantage) those measurements use.")
    seal_every: int = _f(1, "With SEAL on, measure the SEAL/PG gradient ratio (interference/grad_norm_pg, "
                            "grad_norm_seal, grad_cos_pg_seal, seal/grad_ratio) every seal_every steps (1 = every "
                            "step; 0 = only with the interference, every `every`). One forward and two partial "
                            "backwards of max_samples samples: ~25 % of a short step. The label shares "
                            "(seal/label_*) are logged every step either way (no forward).")


@dataclass
class PhaseConfig:
    """Live phase detection (:class:`~entropy_dynamics.train.run.live_phase.LivePhase`): the analyzer's online
    detector on ``metric`` every step; ``phase`` events in the log and on the console; reactions to an eruption."""

    enabled: bool = _f(True, "Run live phase detection (`phase: off` turns it off).")
    metric: str = _f("policy/entropy", "The canonical metric watched.")
    on_eruption: list = _f(["checkpoint", "samples"],  # noqa: RUF009
                           f"Reactions to a confirmed eruption, from: {', '.join(ERUPTION_REACTIONS)}.")
    seal_factor: float = _f(2.0, "raise_seal multiplies seal.coef by this (> 1) ...")
    seal_max: float = _f(0.1, "... up to this cap (needs SEAL on).")
    total_steps: Any = _f("auto", "Ignored since 2026-12-06 (accepted so old configs keep working): the phase "  # noqa: RUF009
                          "definitions no longer depend on the run's length.")
    detector: dict = _f({}, "Options of the online detector: any DetectorOptions field (refit_every, lookback, "  # noqa: RUF009
                        "confirm) or PhaseOptions field (min_ratio, min_rise, max_rise_steps, ...); "
                        "entropy_dynamics/analysis/options.py documents each with its default.")


@dataclass
class TinyModelConfig:
    """The `tiny` preset: a from-scratch Llama with a byte-level BPE trained in code on the env's text."""

    hidden_size: int = _f(128, "Hidden size.")
    num_layers: int = _f(3, "Decoder layers.")
    num_heads: int = _f(4, "Attention heads.")
    intermediate_size: int = _f(384, "MLP width.")
    vocab_size: int = _f(2048, "BPE vocabulary size (byte alphabet + merges + special tokens).")
    corpus_games: int = _f(60, "Games whose expert demonstrations train the tokenizer.")


@dataclass
class LoraSettings:
    """Optional LoRA adapters (peft). r = 0 trains the full model."""

    r: int = _f(0, "LoRA rank; 0 = no LoRA.")
    alpha: int = _f(16, "LoRA alpha.")
    dropout: float = _f(0.05, "LoRA dropout.")
    target_modules: list = _f(["q_proj", "k_proj", "v_proj", "o_proj"], "Modules that get adapters.")  # noqa: RUF009


@dataclass
class SftConfig:
    """The SFT warm start on expert demonstrations (`entropy-dynamics sft`)."""

    epochs: int = _f(24, "Passes over the demonstration turns.")
    lr: float = _f(2e-3, "AdamW learning rate.")
    batch_size: int = _f(32, "Turn examples per optimizer step.")
    n_games: int = _f(60, "Training games (seeds game_seed_start ..).")
    eval_games: int = _f(12, "Held-out games played at T=1 to measure success (seeds after the pool).")
    eval_every: int = _f(4, "Evaluate every this many epochs (and after the last).")
    export_every_eval: bool = _f(False, "Also export the model after every evaluated epoch, as `model_epNN/` "
                                        "beside `model/`, so any evaluated epoch can be an RL start.")


@dataclass
class TrainConfig:
    """Everything `entropy-dynamics sft` and `entropy-dynamics train` need. Defaults = the tiny CPU recipe
    of the cycle search in ``docs/results.md`` (G2 setting)."""

    # --- what is trained, on what
    model: str = _f("tiny", "A preset ('tiny', 'smollm2-135m') or a Hugging Face model path/name.")
    init_from: Any = _f(None, "A model folder to start from (e.g. the `model/` folder written by `sft`).")  # noqa: RUF009
    env: str = _f("textworld-cooking", "Environment name (see `entropy-dynamics envs list`).")
    env_settings: dict = _f({}, "Extra keyword settings passed to make_env.")  # noqa: RUF009
    tiny: TinyModelConfig = field(default_factory=TinyModelConfig, metadata={"help": "The tiny preset."})
    lora: LoraSettings = field(default_factory=LoraSettings, metadata={"help": "Optional LoRA."})
    # --- algorithm
    algorithm: str = _f("grpo", f"Advantage estimator: one of {', '.join(ADV_ESTIMATORS)}, or one registered with "
                                "`register_adv_est` (docs/architecture.md).")
    adv_scale: str = _f("group", "GRPO scaling: 'group' (std of the group), 'batch', or 'none' (Dr. GRPO).")
    credit: str = _f("trajectory", "'trajectory': one score per episode (1 if won, minus the penalty per invalid "
                                   "turn), group statistics over episodes, every turn gets its episode's advantage; "
                                   "'turn' (verl-agent, the SEAL code): every turn sample scores 1 if its episode "
                                   "won minus the penalty of THAT turn, statistics over the group's turn samples.")
    credit_stats: str = _f("turns", "credit: turn only: group mean/std over all turn samples ('turns', verl-agent "
                                    "default) or over each trajectory's first turn ('trajectories', verl-agent's "
                                    "compute_mean_std_cross_steps=False).")
    gigpo_gamma: float = _f(0.95, "GiGPO: discount of step rewards.")
    gigpo_omega: float = _f(1.0, "GiGPO: weight of the step (anchor-state) advantage.")
    gae_gamma: float = _f(1.0, "PPO: discount across turns (turn returns) and tokens.")
    gae_lambda: float = _f(0.95, "PPO: GAE lambda.")
    value_coef: float = _f(0.5, "PPO: value-loss coefficient.")
    # --- run length and seeds
    steps: int = _f(200, "Training steps in total (a resumed run stops at the same total).")
    seed: int = _f(0, "Global seed (python, numpy, torch, sampling, game choice).")
    output_dir: str = _f("runs/train", "Where metrics.jsonl, checkpoints and the exported model go.")
    run_name: Any = _f(None, "Run name in the log header and W&B (default: output_dir's name).")  # noqa: RUF009
    # --- rollout
    group_size: int = _f(8, "Trajectories per game (G); a group shares the seed and so the same reset.")
    games_per_step: int = _f(4, "Games (groups) per training step.")
    game_seed_start: int = _f(0, "First seed of the training game pool.")
    game_pool_size: int = _f(100, "Number of games in the pool (seeds game_seed_start .. + size - 1).")
    max_turns: int = _f(12, "Turn cap per episode.")
    max_turns_slack: Any = _f(3, "If set and the env gives a walkthrough: cap = min(max_turns, len + slack).")  # noqa: RUF009
    history_length: int = _f(2, "Past (observation, action) turns shown in each prompt.")
    max_prompt_tokens: int = _f(512, "Prompts longer than this are cut from the left.")
    max_new_tokens: int = _f(32, "Reply length cap per turn (tokens).")
    temperature: float = _f(1.0, "Rollout sampling temperature (entropy and log-probs are taken at it).")
    invalid_action_penalty: float = _f(0.02, "Subtracted from the episode return per invalid turn.")
    shared_prompts: bool = _f(True, "Encode the prefix all prompts share once, and each distinct prompt once "
                                    "(per turn in sampling, per micro-batch in the update), reusing the KV cache "
                                    "for every reply: the same numbers up to float rounding from fewer tokens. "
                                    "false = every prompt in full (the reference path); the update uses that "
                                    "path anyway under gradient_checkpointing or seal.position_offset < -1.")
    trajectory_prompts: bool = _f(False, "Prompt each turn with the whole conversation so far (system + task, then "
                                         "per turn the observation and admissible actions as a user message and "
                                         "the reply as the assistant's) instead of the `history_length` window. "
                                         "Each prompt then extends the last, so the update trains one sequence "
                                         "per trajectory (observation tokens masked) while it fits "
                                         "max_prompt_tokens; a cut prompt is trained on its own.")
    # --- optimisation
    lr: float = _f(2e-4, "AdamW learning rate.")
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    warmup_steps: int = _f(0, "Linear warm-up (optimizer steps), then constant.")
    grad_clip: float = _f(1.0, "Gradient-norm clip (0 = off).")
    epochs: int = _f(1, "Passes over each step's batch (PPO epochs).")
    minibatches: int = _f(2, "Optimizer steps per epoch (the batch is split into this many minibatches).")
    minibatch_split: str = _f("samples", "How the batch is split into minibatches each epoch: 'samples' (a random "
                                         "split of the turn samples) or 'groups' (whole groups to each minibatch, "
                                         "as verl's unshuffled split keeps them: a group's equal prompts are then "
                                         "encoded once per micro-batch instead of once per minibatch, ~20 % fewer "
                                         "update tokens; needs games_per_step >= minibatches).")
    micro_batch_size: int = _f(32, "Samples per forward pass (length-sorted; gradients are accumulated).")
    clip_eps_low: float = _f(0.2, "PPO clip: lower epsilon.")
    clip_eps_high: float = _f(0.2, "PPO clip: upper epsilon (raise for DAPO clip-higher).")
    dual_clip_c: Any = _f(3.0, "Dual-clip constant for negative advantages (null = off).")  # noqa: RUF009
    loss_agg_mode: str = _f("token-mean", f"Loss aggregation: one of {', '.join(AGG_MODES)}.")
    policy_loss: Any = _f(None, f"Policy loss: one of {', '.join(POLICY_LOSSES)}, or one registered with "  # noqa: RUF009
                                "`register_policy_loss`; null = clip_cov / kl_cov when their options are set, "
                                "else vanilla.")
    kl_coef: float = _f(0.0, "k3 KL-to-reference coefficient (needs use_ref_model; 0 = off).")
    use_ref_model: bool = _f(False, "Keep a frozen copy of the initial policy for the KL term.")
    entropy_coef: float = _f(0.0, "Entropy bonus coefficient (the bonus carries gradient).")
    clip_cov: Any = _f(None, "Clip-Cov options (dict: ratio, low, high) or null.")  # noqa: RUF009
    kl_cov: Any = _f(None, "KL-Cov options (dict: ratio) or null.")  # noqa: RUF009
    max_nan_skips: int = _f(3, "Stop after this many NaN/inf-loss steps in a row (each is skipped).")
    seal: SealConfig = field(default_factory=SealConfig, metadata={"help": "SEAL auxiliary loss."})
    sft: SftConfig = field(default_factory=SftConfig, metadata={"help": "SFT warm start."})
    instruments: InstrumentsConfig = field(default_factory=InstrumentsConfig,
                                           metadata={"help": "The paper's instruments (on by default)."})
    phase: PhaseConfig = field(default_factory=PhaseConfig,
                               metadata={"help": "Live phase detection (on by default)."})
    # --- logging, checkpoints, hardware
    checkpoint_every: int = _f(1, "Write a checkpoint every this many steps (atomic; 0 = only at the end).")
    samples_every: int = _f(10, "Log a `samples` record every this many steps (0 = never).")
    n_sample_trajectories: int = _f(4, "Trajectories per `samples` record.")
    wandb: str = _f("disabled", "W&B sink: 'online', 'offline' or 'disabled'.")
    wandb_project: str = _f("entropy-dynamics", "W&B project.")
    wandb_alerts: bool = _f(False, "Send each live phase transition as a W&B alert (needs wandb on).")
    tensorboard: bool = _f(False, "TensorBoard sink: event files in output_dir/tensorboard.")
    device: str = _f("auto", "'auto' (cuda if available), 'cpu', 'cuda', 'cuda:N'.")
    dtype: str = _f("auto", "Weights: 'auto' (float32, except a LoRA base on GPU: bfloat16), 'float32', 'bfloat16', "
                            "'float16'. Until 2026-12-07 'auto' meant bfloat16 weights on GPU, which round away "
                            "AdamW steps at small lr (warned about now); 'bfloat16' still gives them.")
    mixed_precision: str = _f("auto", "'auto' (bf16 on GPU, no on CPU), 'no', or 'bf16': weights and optimizer stay "
                                      "in `dtype` (fp32 master weights) while every forward (sampling, update, "
                                      "instruments) runs its matrix products in bfloat16 under torch.autocast, as "
                                      "verl's FSDP mixed precision does. On CPU, about 2x faster updates with "
                                      "AVX512-BF16 or AMX; numbers change by bf16 rounding (log-probs to ~1e-2), so "
                                      "fp32 runs are not reproduced.")
    gradient_checkpointing: bool = _f(False, "Recompute activations in backward (saves GPU memory).")
    torch_threads: Any = _f(None, "torch.set_num_threads (null = leave as is).")  # noqa: RUF009

    def __post_init__(self) -> None:
        if self.mixed_precision in (False, "False"):  # YAML reads a bare `no` (or off, false) as false
            self.mixed_precision = "no"
        validate(self)

    @property
    def seal_on(self) -> bool:
        return self.seal.coef > 0
