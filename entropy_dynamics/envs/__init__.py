"""Agent environments: the protocol, TextWorld, ALFWorld / WebShop adapters, prompts, action parsing."""

from entropy_dynamics.envs.actions import filter_admissible, is_admissible, is_meta_command, normalise_action
from entropy_dynamics.envs.base import EnvReset, EnvSpec, EnvStep, TextEnv
from entropy_dynamics.envs.demos import expert_demos, play_expert
from entropy_dynamics.envs.episode import Episode, expert_policy, run_episode
from entropy_dynamics.envs.prompt import build_messages
from entropy_dynamics.envs.registry import list_envs, make_env, register_env
from entropy_dynamics.envs.reply import ParsedReply, ReplyFormat, parse_reply, render_reply

__all__ = [
    "EnvReset",
    "EnvSpec",
    "EnvStep",
    "Episode",
    "ParsedReply",
    "ReplyFormat",
    "TextEnv",
    "build_messages",
    "expert_demos",
    "expert_policy",
    "filter_admissible",
    "is_admissible",
    "is_meta_command",
    "list_envs",
    "make_env",
    "normalise_action",
    "parse_reply",
    "play_expert",
    "register_env",
    "render_reply",
    "run_episode",
]
