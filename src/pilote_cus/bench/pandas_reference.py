"""A plain pandas implementation of the état des lieux: the baseline of `cus bench`.

Written independently of the SQL declarations so that the benchmark also cross-checks the results.
"""

import numpy as np
import pandas as pd

MAILLE_KEYS = {"france": "fr", "region": "reg", "departement": "dep", "epci": "epci", "commune": "DEPCOM"}


def read_rpls(path: str, encoding: str) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep=";",
        encoding=encoding,
        dtype={"DEPCOM": str, "MODE": str, "QPV": str, "SORTIEPATRIM": str, "BAIL": str},
        low_memory=False,
    )


def _indicators(df: pd.DataFrame, vintage: int) -> pd.DataFrame:
    stock = df[df["SORTIEPATRIM"].isna() | (df["SORTIEPATRIM"] == "9")]
    mode = stock["MODE"]
    rent = pd.to_numeric(stock["LOYERPRINC"], errors="coerce").where(lambda s: s != 9999)
    surface = pd.to_numeric(stock["SURFHAB"], errors="coerce")
    rooms = stock["NBPIECE"]
    year = stock["CONSTRUCT"]
    dpe, ges = stock["DPEENERGIE"], stock["DPESERRE"]
    lease_year = pd.to_numeric(stock["BAIL"].str[3:], errors="coerce")
    rented_known = (mode == "1") & rent.notna() & (surface > 0)
    not_new = stock["LOCAT"] != vintage - 1
    flags = {
        ("logements", "total"): np.ones(len(stock)),
        ("type_construction", "collectif"): stock["TYPECONST"] == "C",
        ("type_construction", "individuel"): stock["TYPECONST"] == "I",
        ("dpe_energie", "A-B-C"): dpe.isin(["A", "B", "C"]),
        ("dpe_energie", "D"): dpe == "D",
        ("dpe_energie", "E-F-G"): dpe.isin(["E", "F", "G"]),
        ("dpe_energie", "inconnu"): dpe.isna(),
        ("dpe_ges", "A-B-C"): ges.isin(["A", "B", "C"]),
        ("dpe_ges", "D"): ges == "D",
        ("dpe_ges", "E-F-G"): ges.isin(["E", "F", "G"]),
        ("dpe_ges", "inconnu"): ges.isna(),
        ("pieces", "1-2"): rooms <= 2,
        ("pieces", "3-4"): rooms.isin([3, 4]),
        ("pieces", "5+"): rooms >= 5,
        ("qpv", "qpv"): (stock["QPV"] == "1") | stock["QPV"].str.startswith("Q", na=False),
        ("periode_construction", "avant-1949"): year < 1949,
        ("periode_construction", "1949-1974"): year.between(1949, 1974),
        ("periode_construction", "1975-1999"): year.between(1975, 1999),
        ("periode_construction", "2000-2009"): year.between(2000, 2009),
        ("periode_construction", "2010-2019"): year.between(2010, 2019),
        ("periode_construction", "2020-et-apres"): year >= 2020,
        ("periode_construction", "inconnue"): year.isna(),
        ("loyer_m2", "n"): rent.where(rented_known, 0),
        ("loyer_m2", "d"): surface.where(rented_known, 0),
        ("vacance", "n"): mode == "2",
        ("vacance", "d"): mode.isin(["1", "2"]),
        ("vacance_plus_3_mois", "n"): (mode == "2") & (stock["DUREEVACANCE"] > 3),
        ("mobilite", "n"): (mode == "1") & not_new & (lease_year == vintage - 1),
        ("mobilite", "d"): (mode == "1") & not_new,
    }
    frame = pd.DataFrame({f"{k[0]}|{k[1]}": np.asarray(v, dtype=float) for k, v in flags.items()})
    frame["qpv|hors_qpv"] = 1 - frame["qpv|qpv"]
    frame["DEPCOM"] = stock["DEPCOM"].to_numpy()
    return frame.groupby("DEPCOM", sort=False).sum()


def state_of_play(df: pd.DataFrame, geo: pd.DataFrame, vintage: int) -> pd.DataFrame:
    """Long table maille, code, variable, modalite, nombre, part for the five mailles."""
    per_commune = _indicators(df, vintage).join(geo, how="left")
    per_commune["fr"] = "FR"
    out = []
    for maille, key in MAILLE_KEYS.items():
        grouped = per_commune.reset_index().groupby(key, dropna=False).sum(numeric_only=True)
        total = grouped["logements|total"]
        for column in grouped.columns:
            variable, modality = column.split("|")
            if modality in ("n", "d"):
                continue
            out.append(
                pd.DataFrame(
                    {
                        "maille": maille,
                        "code": grouped.index,
                        "variable": variable,
                        "modalite": modality,
                        "nombre": grouped[column],
                        "part": (100 * grouped[column] / total).round(2),
                    }
                )
            )
        rent = (grouped["loyer_m2|n"] / grouped["loyer_m2|d"]).round(2)
        out.append(
            pd.DataFrame(
                {
                    "maille": maille,
                    "code": grouped.index,
                    "variable": "loyer_m2",
                    "modalite": "moyen",
                    "nombre": rent,
                    "part": np.nan,
                }
            )
        )
        for variable, den in (
            ("vacance", "vacance|d"),
            ("vacance_plus_3_mois", "vacance|d"),
            ("mobilite", "mobilite|d"),
        ):
            out.append(
                pd.DataFrame(
                    {
                        "maille": maille,
                        "code": grouped.index,
                        "variable": variable,
                        "modalite": "taux",
                        "nombre": grouped[f"{variable}|n"],
                        "part": (100 * grouped[f"{variable}|n"] / grouped[den]).round(2),
                    }
                )
            )
    return pd.concat(out, ignore_index=True)
