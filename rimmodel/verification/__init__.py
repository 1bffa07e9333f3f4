"""Verification: manufactured solutions, analytical limits, conservation."""
