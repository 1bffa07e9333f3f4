"""Validation: what the default model says about imaging and pathology observations."""
