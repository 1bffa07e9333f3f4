"""Batched radial lesions: many parameter samples advanced together on one mesh of disjoint parts."""
