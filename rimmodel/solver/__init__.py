"""Discretisation and time integration."""
