# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Surface-in damage: cortex under meningeal follicles
#
# The brain is wrapped in membranes, the meninges. In many people with progressive MS, clusters
# of B cells settle there and organise into *follicles*. They release toxic, inflammatory
# molecules into the fluid over the brain surface, which seep into the cortex underneath.
# Pathologists see damage that is worst at the surface and fades with depth ("surface-in"), and
# it is worse in people who have follicles.
#
# The model runs the same ten years twice: once with two follicles on the pial (outer) surface,
# once without. Everything else, including the white-matter lesion below, is identical.
#
# Run it: `rimmodel demo 2` (about half a minute).

# %%
import numpy as np

from rimmodel.fem import MPI
from rimmodel.io.results import read_run
from rimmodel.teaching import demo_output_dir, run_scenarios, show

out = demo_output_dir("02_surface_in_damage")
runs = run_scenarios({
    "with_follicles": ("time.end=10",),
    "without_follicles": ("time.end=10", "follicles.patches=[]"),
}, out)
results = {name: read_run(path) for name, path in runs.items()}
cortical_loss = {name: r.observables["cortical_axon_loss"] for name, r in results.items()}  # mm^2
depth_edges = results["with_follicles"].profiles["depth_bin_edges"]                       # mm below the pia
profile = {name: r.profiles["axon_loss"][-1] for name, r in results.items()}              # at year 10
follicle_damage = profile["with_follicles"] - profile["without_follicles"]

# %% [markdown]
# ## More cortical damage with follicles
#
# "Cortical axon loss" adds up, over the cortex, how much of the nerve fibres is lost
# (an area in this 2D section, mm²).

# %%
if MPI.COMM_WORLD.rank == 0:
    years = results["with_follicles"].time
    print(f"{'year':>5} {'with follicles':>15} {'without':>10}")
    for k in range(0, len(years), 4):
        print(f"{years[k]:5.1f} {cortical_loss['with_follicles'][k]:15.3f} {cortical_loss['without_follicles'][k]:10.3f}")
    ratio = cortical_loss["with_follicles"][-1] / max(cortical_loss["without_follicles"][-1], 1e-12)
    print(f"\nAfter ten years the cortex has lost {ratio:.1f} times more axons with follicles than without.")

# %% [markdown]
# ## Worst at the surface
#
# The same loss, averaged in bands parallel to the brain surface: 0 mm is the pia, 2.5 mm the
# junction with the white matter. Near the junction both runs show damage: that comes from the
# white-matter lesion just below (inside-out). The *difference* between the runs is the damage
# the follicles cause, and it is greatest at the surface.

# %%
if MPI.COMM_WORLD.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    centres = 0.5 * (depth_edges[1:] + depth_edges[:-1])
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, values in profile.items():
        ax.plot(centres, values, marker="o", label=name.replace("_", " "))
    ax.plot(centres, follicle_damage, "k--", label="caused by follicles (difference)")
    ax.set_xlabel("depth below the pial surface (mm)")
    ax.set_ylabel("axon loss at year 10 (fraction)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "surface_in_profile.png", dpi=120)
    plt.close(fig)
    show(out / "surface_in_profile.png")
    for depth, with_f, without in zip(centres, profile["with_follicles"], profile["without_follicles"]):
        print(f"  {depth:4.2f} mm  with {with_f:.3f}  without {without:.3f}  difference {with_f - without:.3f}")

# %% [markdown]
# ## What this demo claims (checked when it runs)
#
# * after ten years, cortical axon loss with follicles is at least twice that without;
# * the damage the follicles cause (with minus without) is largest in the band nearest the
#   surface and falls with depth, to under a quarter of that in the deepest band (surface-in).

# %%
assert cortical_loss["with_follicles"][-1] > 2.0 * cortical_loss["without_follicles"][-1]
assert np.argmax(follicle_damage) == 0, follicle_damage
assert follicle_damage[-1] < 0.25 * follicle_damage[0], follicle_damage

# %% [markdown]
# ## Glossary
#
# * **Meningeal follicle**: an organised cluster of B cells (and other immune cells) in the
#   membranes over the brain, found at autopsy in many people with progressive MS.
# * **Pia / pial surface**: the innermost membrane, lying on the brain surface.
# * **Surface-in gradient**: damage that is greatest at the brain surface and decreases with depth.
# * **Axon**: the long fibre of a nerve cell; its loss is thought to cause lasting disability.
# * **BTK inhibitor**: a drug that blocks Bruton's tyrosine kinase, an enzyme B cells and microglia
#   need to become active (demo 3).
