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
# # A chronic active rim: a lesion that keeps growing for ten years
#
# Most multiple sclerosis (MS) lesions are quiet a year after they form. Some are not: a ring of
# activated microglia (the brain's immune cells) sits at the lesion edge and keeps damaging the
# myelin just outside it. The lesion then grows slowly, by a fraction of a millimetre per year,
# for many years. Pathologists call this a *chronic active* (or *smouldering*) lesion.
#
# Here the model follows one such lesion in the white matter under the cortex for ten years.
# Watch two things: the demyelinated core (where myelin is gone) getting larger, and the rim of
# microglia riding on its edge, moving outward with it.
#
# Run it: `rimmodel demo 1` (about half a minute), or open this file as a notebook with jupytext.

# %%
import numpy as np

from rimmodel.fem import MPI
from rimmodel.io.results import read_run
from rimmodel.teaching import demo_output_dir, run_scenarios, show

out = demo_output_dir("01_chronic_active_rim")
runs = run_scenarios({"untreated": ("time.end=10", "time.output_interval=0.5")}, out)
lesion = read_run(runs["untreated"])
years = lesion.time
core_radius = lesion.observables["lesion_equivalent_radius"]       # mm
rim_outer_radius = core_radius + lesion.observables["rim_thickness"]  # mm: core plus its rim

# %% [markdown]
# ## The lesion grows, and its rim travels with the edge
#
# "Radius" here is the radius of a circle with the same area as the demyelinated region. The rim,
# as measured here, is the band outside that edge where microglial activation is still above 10%
# of capacity (between the white and the cyan line in the pictures below).

# %%
if MPI.COMM_WORLD.rank == 0:
    print(f"{'year':>5} {'core radius (mm)':>17} {'rim outer edge (mm)':>20} {'rim microglia':>14}")
    for k in range(0, len(years), 2):
        print(f"{years[k]:5.1f} {core_radius[k]:17.2f} {rim_outer_radius[k]:20.2f} "
              f"{lesion.observables['rim_mean_microglia'][k]:14.2f}")
    growth = np.polyfit(years[years >= 2], core_radius[years >= 2], 1)[0]
    print(f"\nThe edge advances {growth:.2f} mm per year: slow, but it does not stop.")

# %% [markdown]
# ## Watch it
#
# The animation shows the lesion every six months: myelin loss in the top row, activated
# microglia in the bottom row. The white line is the lesion edge (half the myelin gone); the cyan
# line is where microglial activation falls to 10% of capacity; the pink line is where the cortex
# (above it) meets the white matter. From about year three on, the microglia are brightest in a
# band just *inside* the white line, in tissue that is losing its myelin now, and their activation
# reaches a few tenths of a millimetre beyond it, out to the cyan line: that outer fringe is the
# rim measured in the table above. The last picture is year ten, followed by the numbers as plots.

# %%
if MPI.COMM_WORLD.rank == 0:
    from rimviz.plots import plot_time_series
    from rimviz.render import write_animation, write_snapshots

    layers = ["myelin_loss", "microglia"]
    frames = write_animation([runs["untreated"]], out / "chronic_active_rim.gif", layers, labels=["untreated"],
                             fps=4.0)
    show(out / "chronic_active_rim.gif")
    show(write_snapshots([runs["untreated"]], out, layers, [years[-1]], labels=["untreated"])[0])
    show(plot_time_series([runs["untreated"]], ["untreated"], out / "lesion_size.png", columns=3))
    print(f"animation: {frames} frames")

# %% [markdown]
# ## What this demo claims (checked when it runs)
#
# * the lesion core keeps growing through all ten years (its radius increases at every step),
#   by more than a millimetre in total;
# * the rim's outer edge moves outward with it;
# * the rim stays active for most of the decade.

# %%
assert np.all(np.diff(core_radius) > 0), "the core should grow at every output"
assert core_radius[-1] - core_radius[0] > 1.0, "more than 1 mm of radial growth in 10 years"
assert rim_outer_radius[-1] - rim_outer_radius[0] > 1.0, "the rim moves outward with the edge"
active = lesion.observables["rim_thickness"] > 0.1
assert active.mean() > 0.5, "a rim at least 0.1 mm thick for most of the decade"

# %% [markdown]
# ## Glossary
#
# * **Chronic active lesion**: an old MS lesion whose edge is still inflamed by a rim of activated
#   microglia and keeps slowly destroying myelin around it.
# * **Microglia**: the brain's resident immune cells; when activated they can damage myelin.
# * **Myelin**: the insulating sheath around nerve fibres (axons); its loss is *demyelination*.
# * **PRL** (paramagnetic rim lesion): a chronic active lesion seen on MRI, where iron inside the
#   rim microglia shows up as a dark ring on phase/susceptibility images.
# * **SEL** (slowly expanding lesion): a lesion seen to grow steadily and concentrically on serial
#   MRI scans; the imaging face of the growth shown above.
