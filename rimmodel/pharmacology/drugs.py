"""Literature-anchored BTK-inhibitor library ("-like": parameter sets, not product labels).

Every number carries its source; "assumed" marks values not retrieved from the literature
we hold (../shared/reference/literature.md), chosen to be plausible and to be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rimmodel.pharmacology.binding import CovalentBinding, ReversibleBinding
from rimmodel.pharmacology.pk import OralPK, half_life_to_clearance

BTK_RESYNTHESIS_HALF_LIFE_H = 130.0  # branebrutinib occupancy decay t1/2 115-154 h (phase 1); assumed shared


@dataclass(frozen=True)
class Drug:
    name: str
    molar_mass: float              # g/mol
    unbound_fraction: float        # fu in plasma
    csf_partition: float           # Kp,uu,CSF: unbound CSF / unbound plasma
    pk: OralPK
    binding: ReversibleBinding | CovalentBinding
    dose_mg: float                 # reference regimen
    interval_h: float
    sources: dict[str, str] = field(default_factory=dict)

    def unbound_nm(self, plasma_ng_per_ml):
        """Unbound plasma concentration in nM (ng/mL = ug/L; / g/mol -> umol/L; x 1000 -> nM)."""
        return self.unbound_fraction * plasma_ng_per_ml / self.molar_mass * 1e3


def _oral(half_life_h: float, volume_l: float, absorption_rate: float = 2.0) -> OralPK:
    return OralPK(absorption_rate, half_life_to_clearance(half_life_h, volume_l), volume_l)


DRUGS = {
    "tolebrutinib": Drug(
        "tolebrutinib-like", 455.5, 0.05, 0.40, _oral(2.0, 200.0),
        CovalentBinding(1.0, 0.7, BTK_RESYNTHESIS_HALF_LIFE_H), 60.0, 24.0,
        {"IC50/K_I 0.7 nM, Kp,uu,CSF 0.40": "Turner et al. 2024 (NHP, cellular IC50)",
         "60 mg once daily": "Reich et al. 2021; HERCULES (Fox et al. 2025)",
         "resynthesis t1/2 130 h": "branebrutinib occupancy decay 115-154 h (phase 1); assumed shared",
         "k_inact 1/h, t1/2 2 h, V/F 200 L, fu 0.05": "assumed",
         "molar mass": "molecular formula C26H25N5O3"}),
    "evobrutinib": Drug(
        "evobrutinib-like", 429.5, 0.048, 0.58, _oral(2.0, 250.0),
        CovalentBinding(0.76, 34.5, BTK_RESYNTHESIS_HALF_LIFE_H), 75.0, 12.0,
        {"IC50/K_I 34.5 nM": "Turner et al. 2024 (cellular IC50)",
         "fu 0.048": "[derived] free 5.5 / total 115 ng/mL (CMSC 2021 abstract)",
         "Kp,uu,CSF 0.58": "human CSF = 58 % of free plasma (CMSC 2021); NHP value 0.13 (Turner 2024)",
         "k_inact 0.76/h": "[derived] tolebrutinib's k_inact/K_I is 65x evobrutinib's (Turner 2024)",
         "75 mg twice daily": "Montalban et al. 2019", "t1/2 2 h, V/F 250 L": "assumed",
         "molar mass": "molecular formula C25H27N5O2"}),
    "fenebrutinib": Drug(
        "fenebrutinib-like", 664.8, 0.04, 0.15, _oral(14.0, 300.0, absorption_rate=1.0),
        ReversibleBinding(2.9), 200.0, 12.0,
        {"IC50 2.9 nM, Kp,uu,CSF 0.15": "Turner et al. 2024", "t1/2 14 h": "[derived] ISRCTN17780768",
         "200 mg twice daily": "FENopta", "V/F 300 L, fu 0.04, ka 1/h": "assumed",
         "molar mass": "molecular formula C37H44N8O4"}),
    "remibrutinib": Drug(
        "remibrutinib-like", 507.5, 0.05, 0.2, _oral(2.0, 200.0),
        CovalentBinding(0.5, 2.0, BTK_RESYNTHESIS_HALF_LIFE_H), 100.0, 12.0,
        {"all PK/PD values": "assumed (REMODEL-1/2 registered; no MS PK/PD retrieved)",
         "molar mass": "molecular formula C27H27F2N5O3"}),
}
