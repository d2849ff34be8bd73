"""Resource ceilings as dated parameters, read from the OpenFisca-style file the user keeps up to date.

The file has one row per parameter and date of effect (`parametre,date_effet,valeur,…`); the PLUS and PLAI
ceilings per household category and zone are read from it, every other row is ignored. PLS = PLUS × 1.30.
PLI ceilings are not in that file: asking for them is an error that says so. Source of the rules:
../shared/domain/LOYERS_SLS_PLAFONDS.md §4.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ZONES = {"paris": "paris_communes_limitrophes", "idf": "ile_de_france", "autres": "autres_regions"}
FINANCINGS = ("PLAI", "PLUS", "PLS", "PLI")
PLS_FACTOR = 1.30
_PARAMETER = re.compile(
    r"^logement_social\.(?P<produit>plai\.plafond_ressources|plu)\."
    r"(?:par_categorie_de_menage\.categorie_(?P<categorie>[1-6])|par_personne_supplementaire)\.(?P<zone>\w+)$"
)


class CeilingError(ValueError):
    """A ceilings file or a question it cannot answer; the message is French and names file, line, column."""


@dataclass
class Ceilings:
    source: str
    # (financing, zone, category 1-6 or 0 for "per extra person") → [(date of effect, value)] sorted
    series: dict[tuple[str, str, int], list[tuple[date, float]]] = field(default_factory=dict)

    def _value(self, financing: str, zone: str, category: int, on: date) -> float:
        dated = [(d, v) for d, v in self.series.get((financing, zone, category), []) if d <= on]
        if dated and dated[-1][0].year != on.year:  # ceilings are revised every 1 January: no stale value
            which = f"catégorie {category}" if category else "par personne supplémentaire"
            raise CeilingError(
                f"Fichier des plafonds « {Path(self.source).name} » : plafond {financing} {on.year} absent "
                f"pour la zone « {zone} » ({which}) ; "
                f"dernière valeur connue : {dated[-1][0]:%d/%m/%Y}. Ajoutez l'arrêté de l'année au fichier."
            )
        values = [v for _, v in dated]
        if not values:
            which = f"catégorie {category}" if category else "par personne supplémentaire"
            raise CeilingError(
                f"Fichier des plafonds « {Path(self.source).name} » : aucun plafond {financing} "
                f"pour la zone « {zone} » ({which}) "
                f"en vigueur au {on:%d/%m/%Y}."
            )
        return values[-1]

    def plafond(self, financing: str, year: int, zone: str, category: int) -> float:
        """The annual ceiling in force on 1 January of `year` (categories above 6 add the per-person amount)."""
        if financing not in FINANCINGS:
            raise CeilingError(f"Financement inconnu « {financing} » (attendu : {', '.join(FINANCINGS)}).")
        if zone not in ZONES:
            raise CeilingError(f"Zone de plafonds inconnue « {zone} » (attendu : {', '.join(ZONES)}).")
        if category < 1:
            raise CeilingError(f"Catégorie de ménage invalide : {category} (de 1 à 6, ou plus pour un grand ménage).")
        if financing == "PLI":
            raise CeilingError(
                f"Le fichier des plafonds « {Path(self.source).name} » ne contient pas les plafonds PLI : "
                "ajoutez-les au fichier des plafonds."
            )
        base = "PLUS" if financing == "PLS" else financing
        on = date(year, 1, 1)
        value = self._value(base, zone, min(category, 6), on)
        if category > 6:
            value += (category - 6) * self._value(base, zone, 0, on)
        return round(value * PLS_FACTOR) if financing == "PLS" else value


def read_ceilings(path: Path) -> Ceilings:
    """Read the PLUS and PLAI ceilings of an OpenFisca-style parameters CSV; errors name the line and column."""
    ceilings = Ceilings(str(path))
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise CeilingError(f"{path} : fichier illisible ({error.strerror or error}).") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = {"parametre", "date_effet", "valeur"} - set(reader.fieldnames or [])
        if missing:
            raise CeilingError(f"{path} : colonne(s) absente(s) : {', '.join(sorted(missing))}.")
        for line, row in enumerate(reader, start=2):
            found = _PARAMETER.match(row["parametre"] or "")
            if not found:
                continue
            if found["zone"] not in ZONES.values():
                raise CeilingError(f"{path}, ligne {line}, colonne parametre : zone inconnue « {found['zone']} ».")
            try:
                effect = date.fromisoformat(row["date_effet"])
            except ValueError:
                raise CeilingError(
                    f"{path}, ligne {line}, colonne date_effet : date AAAA-MM-JJ attendue, « {row['date_effet']} »."
                ) from None
            try:
                value = float(row["valeur"])
            except ValueError:
                raise CeilingError(
                    f"{path}, ligne {line}, colonne valeur : nombre attendu, « {row['valeur']} »."
                ) from None
            financing = "PLAI" if found["produit"].startswith("plai") else "PLUS"
            zone = next(k for k, v in ZONES.items() if v == found["zone"])
            key = (financing, zone, int(found["categorie"] or 0))
            ceilings.series.setdefault(key, []).append((effect, value))
    if not ceilings.series:
        raise CeilingError(f"{path} : aucun plafond PLUS ni PLAI trouvé (paramètres logement_social.*).")
    for values in ceilings.series.values():
        values.sort()
    return ceilings


def household_category(persons: int, dependants: int = 0, young_couple: bool = False, disabled: bool = False) -> int:
    """Household category (1 to 6, then 7, 8… for each extra person) from the household's composition.

    `persons` counts every member, `dependants` those à charge. One adult with dependants, or a disabled
    member, moves the household one category up (not cumulated: a simplification); a young couple without
    dependants is category 3. Rules: ../shared/domain/LOYERS_SLS_PLAFONDS.md §4.
    """
    if persons < 1 or not 0 <= dependants < persons:
        raise CeilingError(f"Composition du ménage invalide : {persons} personne(s), dont {dependants} à charge.")
    if persons == 2 and dependants == 0 and young_couple:
        return 3
    single_parent = persons - dependants == 1 and dependants > 0
    return persons + (1 if single_parent or disabled else 0)


WORKSPACE_FILE = Path("parametres") / "plafonds.csv"


def install_ceilings(source: Path, workspace: Path) -> tuple[Path, Ceilings]:
    """Check `source`, then make it the workspace's ceilings file (written aside, then switched)."""
    ceilings = read_ceilings(source)
    target = workspace / WORKSPACE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    pending = target.with_suffix(".csv.tmp")
    pending.write_bytes(source.read_bytes())
    pending.replace(target)
    return target, ceilings


def workspace_ceilings(workspace: Path, explicit: Path | None = None) -> Ceilings:
    path = explicit or workspace / WORKSPACE_FILE
    if not path.exists():
        raise CeilingError(
            f"Aucun fichier de plafonds de ressources ({path}). Chargez-le avec : cus referentiel plafonds --from "
            "FICHIER (format des paramètres OpenFisca : parametre,date_effet,valeur)."
        )
    return read_ceilings(path)
