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
# # BTK inhibition: does it slow a smouldering lesion, and does timing matter?
#
# Microglia and B cells both rely on an enzyme called Bruton's tyrosine kinase (BTK) to switch
# on. BTK inhibitors are pills that block it; several are in trials for progressive MS, hoping
# to calm the microglial rim and the meningeal B cells. In the model, a drug is described by its
# *occupancy*: the fraction of BTK it blocks in the brain (0 = none, 1 = all).
#
# Four versions of the same lesion over ten years:
# * untreated;
# * **early**: 80% occupancy from year 0;
# * **late**: the same drug started at year 5;
# * **low dose**: 40% occupancy from year 0.
#
# Run it: `rimmodel demo 3` (under a minute).

# %%
import numpy as np

from rimmodel.fem import MPI
from rimmodel.io.results import read_run
from rimmodel.teaching import demo_output_dir, run_scenarios, show

TEN_YEARS = ("time.end=10",)
out = demo_output_dir("03_btk_inhibition")
runs = run_scenarios({
    "untreated": TEN_YEARS,
    "early": (*TEN_YEARS, "btk.cns_occupancy=0.8", "btk.peripheral_occupancy=0.9"),
    "late": (*TEN_YEARS, "btk.schedule=[{start = 5.0, cns = 0.8, peripheral = 0.9}]"),
    "low_dose": (*TEN_YEARS, "btk.cns_occupancy=0.4", "btk.peripheral_occupancy=0.6"),
}, out)
results = {name: read_run(path) for name, path in runs.items()}
years = results["untreated"].time
radius = {name: r.observables["lesion_equivalent_radius"] for name, r in results.items()}  # mm
growth = {name: r[-1] - r[0] for name, r in radius.items()}                                # mm in 10 yr
axon_loss = {name: r.observables["axon_loss"][-1] for name, r in results.items()}           # mm^2

# %% [markdown]
# ## How far did the lesion edge move?

# %%
if MPI.COMM_WORLD.rank == 0:
    print(f"{'scenario':<10} {'edge moved (mm)':>16} {'vs untreated':>13} {'axon loss (mm^2)':>17}")
    for name in runs:
        print(f"{name:<10} {growth[name]:16.2f} {growth[name] / growth['untreated']:13.0%} {axon_loss[name]:17.2f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, values in radius.items():
        ax.plot(years, values, label=name.replace("_", " "))
    ax.axvline(5.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("years")
    ax.set_ylabel("lesion radius (mm)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "btk_radius.png", dpi=120)
    plt.close(fig)
    show(out / "btk_radius.png")

# %% [markdown]
# ## What this demo claims (checked when it runs)
#
# * every treated lesion grows less than the untreated one, and starting early beats starting late;
# * more BTK blocked means slower growth (80% early < 40% early);
# * until the late start, the late-start lesion grows exactly like the untreated one: a drug cannot
#   undo what has already happened, which is why timing matters.

# %%
assert growth["early"] < growth["late"] < growth["untreated"], growth
assert growth["early"] < growth["low_dose"] < growth["untreated"], growth
before = years <= 5.0
assert np.allclose(radius["late"][before], radius["untreated"][before], rtol=1e-9)
assert axon_loss["early"] < axon_loss["late"] < axon_loss["untreated"], axon_loss

# %% [markdown]
# ## Glossary
#
# * **BTK (Bruton's tyrosine kinase)**: an enzyme inside B cells and microglia that relays their
#   activating signals; blocking it calms both cell types.
# * **Occupancy**: the fraction of BTK molecules a drug has blocked; it depends on dose and on how
#   much of the drug crosses into the brain (see docs/btk.md for the dosing model).
# * **Chronic active lesion**: an old lesion whose edge is still inflamed by activated microglia.
# * **PIRA** (progression independent of relapse activity): disability that worsens without new
#   attacks; smouldering lesions are one suspected cause, and the target of these drugs.
