"""Integrations with other trainers (they never use our trainer): the TRL / transformers callback, ..."""
