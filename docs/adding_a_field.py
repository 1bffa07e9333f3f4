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
# # Adding a field
#
# Every field of rimmodel is one declaration, a `Field` in `rimmodel/physics/equations.py`: its name,
# symbol, unit and bounds, its value in healthy tissue and in the seeded lesion core, the
# preconditioner block it belongs to, how it is drawn, its terms, and a smooth manufactured profile
# for verification. The mixed function space, the initial state, the PETSc fieldsplit, the printed
# equations, the run directory's `fields.json` (which rimviz and `rimmodel mri` read) and the
# manufactured solutions are all derived from the declarations.
#
# This page adds a toy field, **reactive astrocytes** `A` driven by activated microglia,
#
#     dA/dt = div(D_A grad A) + k_A m (1 - A) - delta_A A,
#
# and shows that the model, its verification and its outputs take it without further edits.
# It is executed by the tests (`tests/test_adding_a_field.py`), serially and on 2 ranks.
#
# **Files touched to add a field to the package: 3** (before the declarations: 7 for the suite to
# pass, 12 for the field to be complete and visible):
#
# 1. `rimmodel/physics/equations.py`: the `Field` declaration below, appended to `FIELDS`;
# 2. `rimmodel/config/parameters.py`: its parameter section (below), one more line in `ModelConfig`.
#    Parameters stay with the config because configs are validated at the edge, before any
#    physics or FEM code is imported (a study or a viz-only install checks a config without DOLFINx);
# 3. one test (here: this page).
#
# On this page the two blocks live in the page itself: the section is added by subclassing
# `ModelConfig`, and the field by `FIELDS.with_field(...)`, which is exactly what appending
# it to `FIELDS` does.

# %%
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import ufl

from rimmodel.config import ModelConfig, load_config
from rimmodel.config.solver_presets import SOLVER_PRESETS, solver_options
from rimmodel.config.spec import param
from rimmodel.fem import MPI
from rimmodel.io.field_record import read_field_record
from rimmodel.io.results import read_run
from rimmodel.physics.equations import FIELDS, describe
from rimmodel.physics.fields import Field, Layer, Manufactured

comm = MPI.COMM_WORLD
out = Path(os.environ.get("RIMMODEL_PAGE_OUT", "runs/adding_a_field"))

# %% [markdown]
# ## 1. The parameters, with units, ranges, sources and the symbols the equations use

# %%
@dataclass
class AstrocyteParameters:
    """Reactive astrocytes A (fraction of astrocytes in the reactive state): a toy field."""

    diffusivity: float = param(0.01, "mm^2/yr", "Spread D_A of the reactive state (near sessile)",
                               low=0.0, high=1e3, symbol="D_A")
    activation_rate: float = param(1.0, "1/yr", "Activation k_A of astrocytes by activated microglia",
                                   low=0.0, high=1e4, symbol="k_A")
    resolution_rate: float = param(0.2, "1/yr", "Return delta_A of reactive astrocytes to rest",
                                   low=0.0, high=1e4, symbol="delta_A")


@dataclass
class ConfigWithAstrocytes(ModelConfig):
    astrocytes: AstrocyteParameters = field(default_factory=AstrocyteParameters)


# %% [markdown]
# ## 2. The field: one declaration with its terms
#
# `transport` is the vector J in `dA/dt = div J + reaction`; terms see every field by name
# (`q.microglia`), the parameters by symbol (`q.k["k_A"]`) and the tissue.

# %%
ASTROCYTES = Field(
    name="astrocytes", symbol="A", unit="1", bounds=(0.0, 1.0),
    description="reactive astrocytes, fraction of astrocytes in the reactive state",
    background=0.0, lesion_core=None, split="pointwise",
    layer=Layer("reactive astrocytes (fraction)", "Purples", (0.0, 1.0)),
    equation="dA/dt = div(D_A grad A) + k_A m (1 - A) - delta_A A",
    transport=lambda q: q.k["D_A"] * ufl.grad(q.astrocytes),
    reaction=lambda q: q.k["k_A"] * q.microglia * (1 - q.astrocytes) - q.k["delta_A"] * q.astrocytes,
    manufactured=Manufactured(
        lambda x, t, dim: 0.3 + 0.1 * (1 + 0.3 * ufl.sin(2.0 * t)) * ufl.sin(np.pi * x[0]) * ufl.cos(np.pi * x[1]),
        level=0.3, amplitude=0.15),
)
MODEL = FIELDS.with_field(ASTROCYTES)
config = load_config(None, ["astrocytes.activation_rate=1.5"], schema=ConfigWithAstrocytes)
print(MODEL)

# %% [markdown]
# ## 3. What is derived from it
#
# The printed equations and their legend (what `rimmodel equations` prints for the package's model):

# %%
print(describe(MODEL, config))

# %% [markdown]
# The iterative 3D solver splits the system by field kind: the new pointwise field joins the
# microglia/myelin/axon block, and the block size follows the field count.

# %%
split = solver_options(SOLVER_PRESETS["iterative_3d"], MODEL.split_blocks(), len(MODEL))
print({key: value for key, value in split.items() if key.startswith("pc_fieldsplit")})
astrocytes_index = str(MODEL.index("astrocytes"))
assert split["pc_fieldsplit_block_size"] == len(FIELDS) + 1
assert astrocytes_index in split["pc_fieldsplit_0_fields"].split(",")

# %% [markdown]
# ## 4. Verification: the manufactured solution of the extended system converges at order 2 (P1, L2)

# %%
from rimmodel.verification.manufactured import observed_order, solve_manufactured  # noqa: E402

o1 = ("astrocytes.diffusivity=0.1", "astrocytes.activation_rate=0.5", "astrocytes.resolution_rate=0.3")
errors = [solve_manufactured(comm, 2, 1, cells, 0.05 / cells, 0.1, fields=MODEL, overrides=o1,
                             schema=ConfigWithAstrocytes) for cells in (8, 16, 32)]
order = observed_order([1 / 8, 1 / 16, 1 / 32], [e.l2 for e in errors])
print("L2 errors:", [f"{e.l2:.3e}" for e in errors], f"observed order {order:.2f}")
assert abs(order - 2.0) < 0.2, order

# %% [markdown]
# ## 5. A run: the field is solved, written and described in the run directory

# %%
from rimmodel.simulation import Simulation  # noqa: E402

run_config = load_config(None, ["geometry.mesh_size=0.32", "time.end=2.0", "time.output_interval=1.0",
                                "output.progress=false", "output.checkpoints=false"],
                         schema=ConfigWithAstrocytes)
Simulation(run_config, fields=MODEL).run(out / "run", overwrite=True)

record = read_field_record(out / "run")
print([entry["name"] for entry in record])
assert record[-1]["name"] == "astrocytes" and record[-1]["layer"]["cmap"] == "Purples"
assert read_run(out / "run").status == "completed"
with h5py.File(out / "run" / "fields.h5", "r") as fields:
    astrocytes = [fields["Function/astrocytes"][t][()] for t in fields["Function/astrocytes"]]
    microglia_final = [fields["Function/microglia"][t][()] for t in fields["Function/microglia"]][-1]
# reactive astrocytes appear where the lesion's microglia are, and nowhere they are absent
peak = np.argmax(microglia_final)
print(f"astrocytes at the microglial peak {astrocytes[-1][peak].item():.3f}, "
      f"most distant: {astrocytes[-1].min():.2e}")
assert astrocytes[-1][peak] > 0.1 and astrocytes[-1].min() < 0.01
