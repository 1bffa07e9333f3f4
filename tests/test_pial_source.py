"""A case with a known answer: the steady follicle-factor profile under a constant pial flux."""

from rimmodel.verification.pial_source import steady_pial_profile


def test_steady_follicle_factor_matches_the_analytical_profile(shared_dir):
    profile = steady_pial_profile(shared_dir / "slab")
    assert profile.gradient_length == 1.0
    assert profile.relative_l2_error < 0.01
    assert profile.surface_error < 0.01
