"""The annexes of the convention, as document parts the classement and loyers pages can reuse.

- `partie_classement`: the landlord's adopted classement au service rendu (ensembles, scores, classes,
  forced classes with their reason), or a sentence saying none is adopted yet;
- `partie_sls`: the national SLS scale, the bounds of the CUS modulation, the SLR per zone and the
  landlord's retained modulated scale, if any. Every value comes from `loyers/sls.toml` or the database.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .. import graphiques
from ..graphiques import nombre
from .modele import Alignement, Figure, Paragraphe, Partie, Tableau, Titre

# overruns (in % of the ceiling) at which the scales are shown: the band edges of sls.toml and a few more
ILLUSTRATIVE_OVERRUNS = (30, 40, 50, 80, 100, 120, 200)


def alignements(texts: int, numbers: int) -> list[Alignement]:
    """Column alignments: `texts` text columns, then `numbers` right-aligned number columns."""
    text: list[Alignement] = ["texte"]
    number: list[Alignement] = ["nombre"]
    return text * texts + number * numbers


def _date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _carte_classement(version: Any, labels: dict[str, str]) -> list[Figure | Tableau]:
    """The map of the ensembles by retained class (the web page's SVG), with its legend as a table."""
    from django.template.loader import render_to_string

    from ..classement import carte

    classes = version.resultats.get("classes", [])
    data = carte.carte(version.ensembles, classes, carte.contours_configures())
    if not data["points"]:
        return []
    svg = render_to_string("classement/_carte_svg.html", {"carte": data})
    legend = Tableau(
        "Légende de la carte",
        ["Classe", "Symbole", "Ensembles localisés"],
        [
            [labels.get(item["nom"], item["nom"]), f"{item['forme']} {item['couleur']}", item["nombre"]]
            for item in data["legende"]
        ],
        ["texte", "texte", "nombre"],
        note=(
            f"{data['sans_coordonnees']} ensemble(s) sans coordonnées ne figurent pas sur la carte."
            if data["sans_coordonnees"]
            else ""
        ),
    )
    caption = (
        "Carte des ensembles colorés selon leur classe retenue (projection ajustée aux ensembles, sans fond de plan)."
    )
    return [Figure(svg, caption, None), legend]


def partie_classement(organisme: Any, version: Any = None) -> Partie:
    """Annex: the adopted classement of the landlord's ensembles (or why there is none).

    `version`: another version to show instead (the classement page's PDF export of a draft or shared one)."""
    from ..classement.models import StatutVersion, VersionClassement

    partie = Partie("Annexe — Classement des immeubles au regard du service rendu", "annexe-classement")
    if version is None:
        version = VersionClassement.objects.filter(organisme=organisme, statut=StatutVersion.ADOPTEE).first()
    if version is None:
        partie.blocs.append(
            Paragraphe(
                f"Aucun classement au regard du service rendu n'est encore adopté pour {organisme.nom} : "
                "cette annexe sera complétée par la version adoptée à l'issue de la concertation avec les "
                "associations de locataires."
            )
        )
        return partie
    classes = version.resultats.get("classes", [])
    ensembles = version.ensembles
    forced = [e for e in ensembles if e.get("classe_retenue") != e.get("classe_proposee")]
    partie.blocs.append(
        Paragraphe(
            f"Version n° {version.numero} ({version.get_statut_display().lower()}), calculée avec la grille "
            f"« {version.grille_nom or 'sans nom'} » "
            f"(version {version.grille_version}) : {len(ensembles)} ensemble(s) classé(s), dont {len(forced)} "
            "dont la classe retenue diffère de la classe calculée (forçage motivé)."
        )
    )
    counts = Counter(str(e.get("classe_retenue", "")) for e in ensembles)
    order = [str(c["nom"]) for c in sorted(classes, key=lambda c: -float(c.get("score_min", 0)))] or sorted(counts)
    labels = {str(c["nom"]): str(c.get("libelle") or c["nom"]) for c in classes}
    per_class = Tableau(
        "Ensembles par classe retenue",
        ["Classe", "Score minimal", "Ensembles"],
        [
            [
                labels.get(name, name),
                next((c.get("score_min") for c in classes if c["nom"] == name), None),
                counts[name],
            ]
            for name in order
        ],
        ["texte", "nombre", "nombre"],
    )
    partie.blocs += [
        Titre("Répartition par classe", 3, "classement-classes"),
        Figure(
            graphiques.barres_horizontales(
                "Ensembles par classe retenue", {labels.get(n, n): counts[n] for n in order}
            ),
            "Nombre d'ensembles par classe retenue.",
            per_class,
        ),
    ]
    map_blocks = _carte_classement(version, labels)
    if map_blocks:
        partie.blocs += [Titre("Carte des ensembles", 3, "classement-carte"), *map_blocks]
    partie.blocs += [
        Titre("Classement de chaque ensemble", 3, "classement-ensembles"),
        Tableau(
            "Score, classe calculée et classe retenue de chaque ensemble",
            ["Ensemble", "Score", "Classe calculée", "Classe retenue", "Motif du forçage"],
            [
                [
                    str(e["id"]),
                    nombre(float(e["total"]), 2) if e.get("total") is not None else None,
                    labels.get(str(e.get("classe_proposee")), e.get("classe_proposee")),
                    labels.get(str(e.get("classe_retenue")), e.get("classe_retenue")),
                    e.get("motif_forcage") or "",
                ]
                for e in sorted(ensembles, key=lambda e: str(e["id"]))
            ],
            ["texte", "nombre", "texte", "texte", "texte"],
        ),
    ]
    return partie


def _overruns() -> list[int]:
    from ..loyers import sls

    scale = sls.scale()
    edges = {int(scale["seuil_depassement_pct"])}
    for step in scale["cdpr_national"]["tranches"] + scale["modulation"]["tranches"]:
        edges.add(int(step["de"]))
        if step["a"] < 1000:
            edges.add(int(step["a"]))
    return sorted(edges | set(ILLUSTRATIVE_OVERRUNS))


def _cdpr(value: float) -> str:
    return nombre(value, 3)


def partie_sls(organisme: Any, annee: int) -> Partie:
    """Annex: the SLS scales (national, bounds of the modulation, the landlord's retained one) and the SLR."""
    from ..loyers import sls
    from ..loyers.models import BaremeSLS
    from ..loyers.plafonds import CeilingError
    from ..loyers.simulation import scale_from_mapping

    scale = sls.scale()
    partie = Partie("Annexe — Supplément de loyer de solidarité (SLS)", "annexe-sls")
    partie.blocs.append(
        Paragraphe(
            "Le SLS mensuel est égal à la surface habitable × le coefficient de dépassement du plafond de "
            f"ressources (CDPR) × le supplément de loyer de référence (SLR) de la zone. Il est dû à partir de "
            f"{scale['seuil_depassement_pct']} % de dépassement du plafond ; loyer et SLS sont plafonnés à "
            f"{nombre(100 * scale['plafonnement_part_ressources'], 0)} % des ressources du ménage. "
            f"Barème de référence : version {scale['version']} (loyers/sls.toml)."
        )
    )
    no_answer = scale["defaut_de_reponse"]
    partie.blocs.append(
        Paragraphe(
            "Ménage qui ne répond pas à l'enquête sur les ressources : après mise en demeure, SLS forfaitaire "
            f"provisoire calculé avec le CDPR d'un dépassement de {no_answer['depassement_pct']} % "
            f"({_cdpr(sls.cdpr_national(no_answer['depassement_pct']))} au barème national), sans plafonnement, "
            f"majoré de {nombre(no_answer['frais_dossier'], 0)} € de frais de dossier. Les ménages bénéficiaires "
            "de l'APL ne sont pas enquêtés et ne paient pas de SLS."
        )
    )
    retained = BaremeSLS.objects.filter(organisme=organisme, retenu=True).first()
    modulated = None
    note = ""
    if retained is not None:
        try:
            modulated = scale_from_mapping(retained.bareme)
        except CeilingError as error:
            note = f"Le barème retenu « {retained.nom} » n'est pas lisible : {error}"
    overruns = _overruns()
    columns = ["Dépassement du plafond", "CDPR national", "Borne basse CUS", "Borne haute CUS"]
    if modulated is not None:
        columns.append("CDPR retenu")
    rows = []
    for overrun in overruns:
        low, high = sls.modulation_bounds(overrun)
        row: list[Any] = [f"{overrun} %", _cdpr(sls.cdpr_national(overrun)), _cdpr(low), _cdpr(high)]
        if modulated is not None:
            row.append(_cdpr(modulated.cdpr(overrun)))
        rows.append(row)
    partie.blocs += [
        Titre("Coefficient de dépassement du plafond de ressources", 3, "sls-cdpr"),
        Tableau(
            "CDPR selon le dépassement du plafond de ressources : barème national et bornes de la modulation",
            columns,
            rows,
            alignements(1, len(columns) - 1),
            note="Bornes de la modulation applicables en zones A, B1 et B2 (règles de première génération) ; "
            "ailleurs, le barème national s'applique.",
        ),
    ]
    series: dict[str, Sequence[float | None]] = {"CDPR national": [sls.cdpr_national(o) for o in overruns]}
    if modulated is not None:
        series["CDPR retenu"] = [modulated.cdpr(o) for o in overruns]
    series["Borne haute CUS"] = [sls.modulation_bounds(o)[1] for o in overruns]
    partie.blocs.append(
        Figure(
            graphiques.courbe("CDPR selon le dépassement du plafond", [f"{o} %" for o in overruns], series),
            "Coefficient de dépassement selon le dépassement du plafond de ressources.",
            Tableau(
                "Valeurs du graphique",
                ["Dépassement", *series],
                [[f"{o} %", *(_cdpr(v[i] or 0.0) for v in series.values())] for i, o in enumerate(overruns)],
                alignements(1, len(series)),
            ),
        )
    )
    partie.blocs.append(Titre("Barème retenu par l'organisme", 3, "sls-retenu"))
    if modulated is not None and retained is not None:
        partie.blocs.append(
            Tableau(
                f"Barème modulé « {retained.nom} » retenu le {_date(retained.cree_le)}",
                ["Tranche de dépassement", "CDPR à 20 %", "Supplément par point"],
                [[f"{scale['seuil_depassement_pct']} %", _cdpr(modulated.a_20_pct), ""]]
                + [[f"de {b.de} % à {b.a} %", "", _cdpr(b.par_point)] for b in modulated.tranches],
                ["texte", "nombre", "nombre"],
            )
        )
    else:
        partie.blocs.append(
            Paragraphe(
                note
                or f"{organisme.nom} n'a pas retenu de barème modulé : le barème national s'applique à ses logements."
            )
        )
    year_slr = sorted(d for d in scale["slr"] if d <= f"{annee}-01-01")
    if year_slr:
        values = scale["slr"][year_slr[-1]]
        partie.blocs += [
            Titre("Supplément de loyer de référence", 3, "sls-slr"),
            Tableau(
                f"SLR en € par m² habitable et par mois, par zone SLS (valeurs du {year_slr[-1]})",
                ["Zone SLS", "SLR (€/m²/mois)"],
                [[f"Zone {zone}", nombre(float(values[str(zone)]), 2)] for zone in sls.ZONES_SLS],
                ["texte", "nombre"],
            ),
        ]
    return partie
