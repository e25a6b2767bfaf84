"""The survey's official areas checked on loading: TBDLMJ = TBMJ - KCMJ, KCMJ = TBMJ x KCXS.

The third national land survey records each patch's area (TBMJ), the deducted class
(KCDLBM, 1203 田坎), its coefficient (KCXS), the deducted area (KCMJ = TBMJ x KCXS) and the
official class area 图斑地类面积 (TBDLMJ = TBMJ - KCMJ), every area rounded to 0.01 m². The
catalogue maps those fields by their survey names (also from GBK Shapefiles and FileGDBs, as
the survey delivers them); this check refuses a file whose figures do not add up, all or
nothing like every other check of a load, since every survey statistic is summed from them.
A missing KCMJ counts as no deduction; a patch without TBDLMJ is not checked (statistics then
use its polygon area and say so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.errors import FieldMappingError
from gis.layers.catalogue import Layer
from gis.messages import msg

#: Each area is recorded to 0.01 m², so a difference of one unit in the last place is
#: rounding; anything more is a wrong figure. (Data accuracy, not a planning rule.)
ROUNDING_M2 = 0.01
_SLACK = 1e-9  # float noise of values read from a file, relative to the area


def _refuse(key: str, bad: np.ndarray, row_ids: np.ndarray, **params: object) -> None:
    rows = row_ids[bad][:20].tolist()
    raise FieldMappingError(msg(key, rows=rows, count=int(bad.sum()), **params), rows=rows)


def check_official_areas(layer: Layer, attributes: pd.DataFrame, row_ids: np.ndarray) -> None:
    """Refuse survey patches whose official areas do not add up (see the module docstring)."""
    if layer.id != "survey_patches" or "official_area_m2" not in attributes:
        return

    def column(name: str) -> np.ndarray:
        return pd.to_numeric(attributes[name], errors="coerce").to_numpy(dtype=float)

    tbmj, kcmj = column("patch_area_m2"), column("deducted_area_m2")
    kcxs, tbdlmj = column("deduction_coefficient"), column("official_area_m2")
    out_of_range = ~np.isnan(kcxs) & ((kcxs < 0) | (kcxs >= 1))
    if out_of_range.any():
        _refuse("survey.coefficient_range", out_of_range, row_ids)
    allowed = ROUNDING_M2 + _SLACK * np.nan_to_num(tbmj)
    deducted = np.nan_to_num(kcmj)
    checked = ~np.isnan(tbdlmj) & ~np.isnan(tbmj)
    wrong = checked & (np.abs(tbdlmj - (tbmj - deducted)) > allowed)
    if wrong.any():
        _refuse("survey.official_mismatch", wrong, row_ids, tolerance=ROUNDING_M2)
    product = ~np.isnan(kcmj) & ~np.isnan(kcxs) & ~np.isnan(tbmj)
    wrong = product & (np.abs(kcmj - tbmj * kcxs) > allowed + 0.005)
    if wrong.any():
        _refuse("survey.deduction_mismatch", wrong, row_ids, tolerance=ROUNDING_M2)
