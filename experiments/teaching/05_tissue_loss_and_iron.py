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
# # Tissue loss and iron: lesions that shrink on MRI, rims that outlast the fire
#
# Two puzzles from MS imaging. First, some lesions *shrink* on MRI over the years, even lesions
# whose edge is still active. Second, the dark iron rims of chronic active lesions on
# susceptibility (phase) images stay visible for years, even when the inflammation behind them
# may have calmed down.
#
# Both come from what happens *after* the damage. Destroyed myelin and axons are cleared away
# over months to years and the space fills with fluid: the tissue is *lost*. And the microglia
# that ate the myelin keep its iron, releasing it only slowly.
#
# This demo follows two lesions for twelve years with the model and scans them once a year with a
# synthetic MRI (1 mm voxels, a 3 mm slice):
#
# * a **chronic active** lesion, with a rim of activated microglia that keeps it expanding;
# * a **burnt-out** lesion: the same lesion with its microglia made 30% harder to activate (the
#   model's BTK inhibitor at full occupancy, demo 3), so its rim dies out after a few years.
#
# Both use the same parameters: the defaults, with iron cleared at 0.2 per year (half-life about
# 3.5 years; an assumed value, guided by MRI studies in which lesion iron stays high for about four
# years before it fades; docs/validation.md).
#
# Run it: `rimmodel demo 5` (about a minute).

# %%
import numpy as np

from rimmodel.fem import MPI
from rimmodel.io.field_series import read_fields
from rimmodel.io.results import read_run
from rimmodel.mri import mri_parameters, radiology_readouts, synthetic_scans
from rimmodel.mri.scans import WithoutFields
from rimmodel.teaching import demo_output_dir, run_scenarios, show

SLOW_IRON = ("time.end=12", "iron.clearance_rate=0.2")
out = demo_output_dir("05_tissue_loss_and_iron")
runs = run_scenarios({"chronic_active": SLOW_IRON, "burnt_out": (*SLOW_IRON, "btk.cns_occupancy=1.0")}, out)

params = mri_parameters(voxel_size=1.0, scan_interval=1.0)
model, scans, flair, flair_kept, black_holes = {}, {}, {}, {}, {}
for name, run_dir in runs.items():
    model[name] = read_run(run_dir)
    fields = read_fields(run_dir)
    scans[name] = synthetic_scans(fields, params)
    readouts = radiology_readouts(scans[name])
    flair[name] = readouts["t2_lesion_volume_mm3"]                     # mm^3, what the scan shows
    black_holes[name] = readouts["t1_black_hole_volume_mm3"]           # mm^3, dark on T1
    # the same run read as if no tissue were lost (the tissue field changes nothing else in the model)
    flair_kept[name] = radiology_readouts(synthetic_scans(WithoutFields(fields, "tissue"), params))[
        "t2_lesion_volume_mm3"]
years = scans["chronic_active"].times

# %% [markdown]
# ## The edge keeps moving, the FLAIR lesion does not keep up
#
# The model knows where myelin is gone (the lesion edge). The scanner only sees signal: on FLAIR,
# the most common MS scan, fluid is made dark on purpose. Where destroyed tissue has been cleared
# and replaced by fluid, the lesion stops looking bright.

# %%
def radius_at(result, t):
    return float(np.interp(t, result.time, result.observables["lesion_equivalent_radius"]))


active, burnt = model["chronic_active"], model["burnt_out"]
if MPI.COMM_WORLD.rank == 0:
    print(f"{'year':>4} | {'chronic active: edge (mm)':>25} {'FLAIR (mm^3)':>13} {'if no loss':>11} {'T1 dark':>8} |"
          f" {'burnt-out: edge (mm)':>20} {'FLAIR (mm^3)':>13}")
    for k, year in enumerate(years):
        print(f"{year:4.0f} | {radius_at(active, year):25.2f} {flair['chronic_active'][k]:13.0f} "
              f"{flair_kept['chronic_active'][k]:11.0f} {black_holes['chronic_active'][k]:8.0f} | "
              f"{radius_at(burnt, year):20.2f} {flair['burnt_out'][k]:13.0f}")

# %% [markdown]
# Read the table row by row. The chronic active lesion's edge moves outward every year. Its FLAIR
# volume grows too, but much more slowly than it would if no tissue were lost (the "if no loss"
# column): its centre, demyelinated years ago and since cleared, has turned to fluid and drops out of
# the bright FLAIR lesion, while the T1 image shows it as a dark core (the "T1 dark" column, a
# *black hole*). The burnt-out lesion is worse off: its edge stops, and then the whole lesion fades
# from FLAIR as its tissue is replaced by fluid. On MRI it *shrinks*; in the tissue nothing has grown
# back.

# %% [markdown]
# ## The iron rim outlives the microglia
#
# The model tracks two rims: activated microglia above 10% of capacity just outside the lesion, and
# iron held by microglia and macrophages above 0.1 (in units where 1 is a rim that took up all the
# iron of its myelin). Iron is taken up where myelin is destroyed and is cleared slowly.

# %%
def last_present(result, name):
    present = np.flatnonzero(result.observables[name] > 0)
    return float(result.time[present[-1]]) if present.size else None


microglia_until = last_present(burnt, "rim_size")
iron_until = last_present(burnt, "iron_rim_size")
if MPI.COMM_WORLD.rank == 0:
    print(f"burnt-out lesion: microglial rim last seen at year {microglia_until:.1f}, iron rim at year "
          f"{iron_until:.1f}: the iron outlasts the microglia by {iron_until - microglia_until:.1f} years")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for name, style in (("chronic_active", "-"), ("burnt_out", "--")):
        axes[0].plot(years, flair[name], style, marker="o", label=f"{name.replace('_', ' ')}: FLAIR")
        axes[0].plot(years, flair_kept[name], style, color="grey", label=f"{name.replace('_', ' ')}: if no tissue lost")
    axes[0].set(xlabel="year", ylabel="FLAIR lesion volume (mm³)", title="what the scanner measures")
    axes[1].plot(burnt.time, burnt.observables["rim_size"], label="microglial rim")
    axes[1].plot(burnt.time, burnt.observables["iron_rim_size"], label="iron rim")
    axes[1].set(xlabel="year", ylabel="area (mm²)", title="burnt-out lesion: microglia vs iron")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.savefig(out / "volumes_and_rims.png", dpi=100)
    plt.close(fig)
    show(out / "volumes_and_rims.png")

    shown = [(name, contrast, year) for name in scans for contrast in ("t2", "t1", "phase") for year in (2, 6, 12)]
    fig, axes = plt.subplots(2, 9, figsize=(18, 4.6), constrained_layout=True)
    titles = {"t2": "FLAIR", "t1": "T1", "phase": "iron (phase)"}
    limits = {"t2": (0.0, 2.0), "t1": (0.0, 1.2), "phase": (0.0, 0.3)}
    for ax, (name, contrast, year) in zip(axes.ravel(), shown):
        k = int(np.argmin(np.abs(scans[name].times - year)))
        ax.imshow(scans[name].images[contrast][k, :, :, 0].T, origin="lower", vmin=limits[contrast][0],
                  vmax=limits[contrast][1], cmap="copper" if contrast == "phase" else "gray")
        ax.set_title(f"{name.replace('_', ' ')}: {titles[contrast]}, year {year}", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.savefig(out / "scans.png", dpi=90)
    plt.close(fig)
    show(out / "scans.png")

# %% [markdown]
# In the scans, the chronic active lesion's FLAIR signal becomes a bright band around a greyer
# centre, the T1 centre darkens year by year, and the iron forms a ring just inside the moving
# edge. In the burnt-out lesion the iron ring is still there after its microglia have gone quiet,
# and fades over the following years.

# %% [markdown]
# ## What this demo claims (checked when it runs)
#
# * the chronic active lesion's edge advances every year, by more than 1.5 mm in twelve years;
# * its FLAIR volume at year 12 is less than 60% of what the same scans show without tissue loss,
#   and its T1-dark core grows;
# * the burnt-out lesion shrinks on FLAIR: its last FLAIR volume is below its largest;
# * in the burnt-out lesion the iron rim outlives the microglial rim by at least two years.

# %%
radius = active.observables["lesion_equivalent_radius"]
assert np.all(np.diff(radius) > 0) and radius[-1] - radius[0] > 1.5, radius
assert flair["chronic_active"][-1] < 0.6 * flair_kept["chronic_active"][-1], (flair, flair_kept)
assert black_holes["chronic_active"][-1] > black_holes["chronic_active"][0], black_holes
assert flair["burnt_out"][-1] < flair["burnt_out"].max(), flair["burnt_out"]
assert microglia_until is not None and iron_until >= microglia_until + 2.0, (microglia_until, iron_until)

# %% [markdown]
# ## Glossary
#
# * **Tissue loss**: destroyed myelin and axons are cleared by microglia and macrophages; the space
#   they leave fills with fluid. On MRI this shows as *atrophy*: the brain, and lesions, lose volume.
# * **FLAIR**: a T2-weighted MRI scan in which fluid is made dark, so lesions stand out as bright
#   spots. Fluid that replaced lost tissue is dark on FLAIR too.
# * **T1 black hole**: a lesion that is dark on T1-weighted MRI, where tissue (axons, matrix) has been
#   destroyed and replaced by fluid.
# * **Chronic active lesion**: an old lesion whose edge is still inflamed by a rim of activated
#   microglia and slowly expands. **Burnt-out** (chronic inactive) lesion: one whose rim has died out.
# * **PRL** (paramagnetic rim lesion): a lesion with a ring of iron, held by microglia and
#   macrophages at its edge, seen on phase or susceptibility (QSM) images.
# * **Iron**: stored by oligodendrocytes and myelin; released when they are destroyed and taken up by
#   microglia, which hold on to it for years.
# * **Brain volume change (PBVC)**: the percentage by which brain volume changes between scans, a
#   standard measure of atrophy in trials (`rimmodel mri` reports it).
