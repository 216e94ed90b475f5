"""Tests of entropy_dynamics.integrations."""
