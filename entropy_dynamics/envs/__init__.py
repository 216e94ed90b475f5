"""Agent environments: the protocol, TextWorld, ALFWorld / WebShop adapters, prompts, action parsing."""

from entropy_dynamics.envs.base import EnvReset, EnvStep, TextEnv

__all__ = ["EnvReset", "EnvStep", "TextEnv"]
