"""Calibration with uncertainty: observations, emulators, history matching, MCMC and ABC-SMC."""
