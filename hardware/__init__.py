"""Physical models: channels (fibre, free space, satellite), quantum memories,
photon sources, detectors, Bell-state analysers and heralded-link physics.

Imported as ``qactors.hardware``.  Everything here is a frozen, validated
parameter record or a pure function of plain floats; units are in every name
(``length_km``, ``t2_s``, ``delay_ps``; efficiencies are 0..1).  Invalid
values raise :class:`qactors.core.errors.ConfigurationError` naming the field,
the value and what is allowed.  May import ``qactors.core`` only (never
``qactors.quantum``, ``protocols``, ``topologies`` or Ray).

>>> from qactors.hardware import Fibre, plob_bound
>>> round(plob_bound(Fibre(length_km=100).transmissivity), 6)
0.0145
"""

from .bsa import DeterministicBSA, LinearOpticsBSA
from .channels import (EARTH_RADIUS_KM, SPEED_OF_LIGHT_M_PER_S, Channel, DualDownlinkBudget, Fibre,
                       FreeSpaceLink, SatelliteDownlink, atmospheric_extinction_db_per_km, dual_downlink,
                       plob_bound, tgw_bound, transmissivity_to_db)
from .detectors import Detector
from .links import (DEFAULT_FIBRE_C_M_PER_S, TIMINGS, HeraldedLink, attempt_duration_ps, attempt_duration_s, double_click,
                    double_click_success_probability, heralded_rate_hz, midpoint_arm_efficiency, single_click,
                    single_click_success_probability)
from .memory import MEMORY_DECAYS, AbsorptiveMemory, QuantumMemory
from .sources import EMITTER_KINDS, EmitterNode, QuantumDotSource, SPDCSource

__all__ = [
    # channels
    "Channel", "Fibre", "FreeSpaceLink", "SatelliteDownlink", "DualDownlinkBudget", "dual_downlink",
    "plob_bound", "tgw_bound", "transmissivity_to_db", "atmospheric_extinction_db_per_km",
    "SPEED_OF_LIGHT_M_PER_S", "EARTH_RADIUS_KM",
    # memory
    "QuantumMemory", "AbsorptiveMemory", "MEMORY_DECAYS",
    # sources
    "SPDCSource", "QuantumDotSource", "EmitterNode", "EMITTER_KINDS",
    # detectors
    "Detector",
    # Bell-state analysers
    "LinearOpticsBSA", "DeterministicBSA",
    # heralded links
    "HeraldedLink", "DEFAULT_FIBRE_C_M_PER_S", "midpoint_arm_efficiency", "double_click_success_probability",
    "double_click", "single_click_success_probability", "single_click", "attempt_duration_s",
    "attempt_duration_ps", "heralded_rate_hz", "TIMINGS",
]
