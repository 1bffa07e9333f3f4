"""Measure the candidate routes from the MNI152 templates to a tetrahedral mesh (meshes/README.md).

    .venv/bin/python meshes/mni_route_comparison.py [--size 0.5]

For the same region and cell size: (1) voxels split into 6 Kuhn tetrahedra (the route
rimmodel uses), (2) voxels split into 5 tetrahedra (alternating, for conformity),
(3) a marching-cubes surface of the tissue (VTK flying edges) meshed inside by gmsh, tissue
tags read from the templates at cell centroids. Prints cell counts, radius ratios, pial
(outer) surface areas and timings. Needs pyvista (the viz extra) besides gmsh and nilearn.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from scipy import ndimage

from rimmodel.config.parameters import GeometryParameters
from rimmodel.geometry.mni import THRESHOLD, _voxel_index, load_templates, region_grid, tissue_labels
from rimmodel.geometry.quality import radius_ratio
from rimmodel.geometry.voxel_mesh import kuhn_simplices

REGION = dict(mni_region_centre=[26.0, -16.0, 71.0], mni_region_size=[16.0, 10.0, 16.0], mni_resolution=1)
CUBE = np.array([[(c >> i) & 1 for i in range(3)] for c in range(8)], dtype=float)
# the 5-tetrahedron split of a cube: four corner tetrahedra around one regular tetrahedron
FIVE = np.array([[0, 1, 2, 4], [3, 1, 2, 7], [5, 1, 4, 7], [6, 2, 4, 7], [1, 2, 4, 7]])


def voxel_routes(params: GeometryParameters) -> None:
    started = time.perf_counter()
    labels, _ = tissue_labels(params)
    voxels = int((labels > 0).sum())
    elapsed = time.perf_counter() - started
    h = params.mesh_size
    exposed = _exposed_faces(labels)
    for name, simplices in (("6 Kuhn tetrahedra", kuhn_simplices(3)), ("5 tetrahedra", FIVE)):
        quality = radius_ratio(CUBE[simplices])
        print(f"voxels, {name}: {len(simplices) * voxels} cells, radius ratio min {quality.min():.3f} "
              f"mean {quality.mean():.3f}; outer surface {exposed * h * h:.1f} mm^2 "
              f"(labels in {elapsed:.1f} s)")


def _exposed_faces(labels: np.ndarray) -> int:
    tissue = np.pad(labels > 0, 1)
    return int(sum(np.sum(tissue != np.roll(tissue, 1, axis=a)) for a in range(3)))


def marching_cubes_route(params: GeometryParameters) -> None:
    import gmsh
    import pyvista

    started = time.perf_counter()
    templates = load_templates(params.mni_resolution)
    _, centres, corner = region_grid(params)
    index = _voxel_index(templates["affine"], centres)
    sample = {n: ndimage.map_coordinates(templates[n], index, order=1).reshape(centres.shape[:-1])
              for n in ("brain", "grey", "white")}
    tissue = np.minimum(sample["brain"], sample["grey"] + sample["white"])
    padded = np.pad(tissue, 1)  # closes the surface on the box faces
    h = params.mesh_size
    image = pyvista.ImageData(dimensions=padded.shape, spacing=(h, h, h), origin=corner + h / 2 - h)
    image.point_data["tissue"] = padded.ravel(order="F")
    surface = image.contour([THRESHOLD], scalars="tissue", method="flying_edges").triangulate().clean()
    surface = surface.connectivity("largest")
    with tempfile.NamedTemporaryFile(suffix=".stl") as stl:
        surface.save(stl.name)
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        try:
            gmsh.merge(stl.name)
            # the marching-cubes triangles are the boundary mesh as they are: classifying and
            # reparametrising the surface for remeshing fails on it ("wrong topology of boundary mesh")
            loop = gmsh.model.geo.addSurfaceLoop([t for _, t in gmsh.model.getEntities(2)])
            gmsh.model.geo.addVolume([loop])
            gmsh.model.geo.synchronize()
            gmsh.option.setNumber("Mesh.MeshSizeMax", h * np.sqrt(2))
            gmsh.model.mesh.generate(3)
            _, nodes, _ = gmsh.model.mesh.getNodes()
            _, cells = gmsh.model.mesh.getElementsByType(4)
            x = nodes.reshape(-1, 3)
            corners = x[np.asarray(cells, dtype=int).reshape(-1, 4) - 1]
            quality = radius_ratio(corners)
            print(f"marching cubes + gmsh: {len(corners)} cells, radius ratio min {quality.min():.3f} "
                  f"mean {quality.mean():.3f}, {np.sum(quality < 0.1)} below 0.1; outer surface "
                  f"{surface.area:.1f} mm^2 ({time.perf_counter() - started:.1f} s)")
        except Exception as error:
            print(f"marching cubes + gmsh failed: {error} ({time.perf_counter() - started:.1f} s)")
        finally:
            gmsh.finalize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=0.5, help="cell size (mm)")
    args = parser.parse_args()
    params = GeometryParameters(kind="mni_brain", mesh_size=args.size, **REGION)
    voxel_routes(params)
    marching_cubes_route(params)


if __name__ == "__main__":
    main()
