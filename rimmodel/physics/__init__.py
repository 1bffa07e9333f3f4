"""The disease model: equations, initial state, treatment (no solver, no I/O)."""
