"""The README's physics example: swap two Werner links, purify, and read off figures of merit."""

from qactors.hardware import Fibre
from qactors.quantum import bell, information


def main() -> dict:
    link = bell.werner(0.95)                              # an elementary pair
    end_to_end = bell.swap(link, link)                    # ideal swap: F = 0.9033
    p, purified = bell.dejmps(end_to_end, end_to_end)     # one DEJMPS round
    return {
        "fibre_50km_transmissivity": Fibre(length_km=50).transmissivity,
        "swapped_fidelity": end_to_end[bell.PHI_PLUS],
        "purification_success": p,
        "purified_fidelity": purified[bell.PHI_PLUS],
        "bbm92_key_fraction": information.bbm92_key_fraction(purified),
        "chsh": information.chsh_value(purified),
    }


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key:28s} {value:.6f}")
