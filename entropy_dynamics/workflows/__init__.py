"""End-to-end workflows built on the library: the `entropy-dynamics demo`."""
