"""The ``entropy-dynamics`` command line (typer). Parses arguments, calls the library, formats output."""
