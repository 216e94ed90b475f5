"""The trainer's maths: advantage estimators, policy losses, credit assignment, SEAL (see :mod:`.registry`)."""
