"""Configs that would exhaust memory are refused before anything is allocated, with the estimate."""

import pytest

from rimmodel.config import ConfigError, load_config
from rimmodel.config.resource_checks import estimated_cells
from rimmodel.geometry import build_domain


@pytest.mark.parametrize("overrides, message", [
    (["geometry.mesh_size=0.005", "geometry.width=200", "geometry.white_matter_depth=100",
      "geometry.cortex_thickness=6"], r"geometry.mesh_size = 0.005 on this cortical_section \(200 x 106 mm\) makes "
                                      r"about 1.7e\+09 cells, more than 2e\+08"),
    (["geometry.kind=cortical_slab", "geometry.mesh_size=0.01"], r"makes about 1.3e\+09 cells"),
    (["geometry.kind=sulcus_slab", "geometry.pial_mesh_size=0.005"], r"pial_mesh_size = 0.005.* more than 2e\+07 "
                                                                     r"\(gmsh meshes on rank 0\)"),
    (["geometry.kind=periventricular_section", "geometry.width=200", "geometry.mesh_size=0.005"], r"makes about"),
    (["time.output_interval=1e-6", "time.end=1000"], r"time.output_interval = 1e-06 over time.end = 1000 yr makes "
                                                     r"1e\+09 output times, more than 1e\+05"),
])
def test_a_config_that_would_exhaust_memory_is_refused_with_the_estimate(overrides, message):
    with pytest.raises(ConfigError, match=message) as refused:
        load_config(None, overrides)
    assert "\n" not in str(refused.value)


def test_large_but_feasible_configs_pass():
    load_config(None, ["time.output_interval=0.01", "time.end=1000"])  # 1e5 outputs
    load_config(None, ["geometry.mesh_size=0.005", "geometry.width=200"])  # 1.1e8 cells, distributed


@pytest.mark.parametrize("overrides", [["geometry.kind=cortical_section"],
                                       ["geometry.kind=cortical_slab", "geometry.mesh_size=0.5"],
                                       ["geometry.kind=cortical_sulcus", "geometry.mesh_size=0.3"]])
def test_the_estimate_matches_the_mesh(comm, overrides):
    config = load_config(None, overrides)
    actual = build_domain(config.geometry, comm, config.lesion).global_cell_count()
    estimate = estimated_cells(config.geometry, config.lesion)
    if config.geometry.kind.startswith("cortical_s") and "sulcus" not in config.geometry.kind:
        assert estimate == actual  # the structured grid: exact
    else:
        assert actual <= estimate <= 1.5 * actual  # gmsh: an estimate, never far below the count
