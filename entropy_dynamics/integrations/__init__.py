"""Bring SEAL and the instruments to where users train: TRL, verl."""
