"""Integrations with other trainers (they never use our trainer): the TRL / transformers callback, SEAL and the
instruments for TRL and verl."""
