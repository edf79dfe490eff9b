"""Published values from the literature, with provenance and how far to trust each entry.

Transcribed from ``published-values.md`` (the primary PDFs were not available; every value comes
from secondary copies of the tables and is not confirmed from the primary source). All tables are
M/G/1 with E[S] = 1, so the load equals the arrival rate λ.

Each entry is a :class:`PublishedValue` with the value, its kind (``"closed form"``,
``"equation"`` or ``"simulation"``), the relative tolerance to test it with, and a note where the
published number is known to depart from the exact value.

>>> from queuetheory.published import TABLE1
>>> v = TABLE1[(0.8, "SPRPT")]
>>> v.value, v.kind
(3.117, 'equation')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PublishedValue", "TABLE1", "TABLE2", "TABLE3", "SOURCES"]

SOURCES = {
    "survey": "Mitzenmacher & Shahout (2025), Queueing, Predictions, and LLMs: Challenges and "
              "Open Problems, arXiv 2503.07545",
    "itcs2020": "Mitzenmacher (2020), Scheduling with Predictions and the Price of "
                "Misprediction, ITCS 2020, arXiv 1902.00732",
    "advice": "Mitzenmacher (2021), Queues with Small Advice, SIAM ACDA 2021, arXiv 2006.15463",
}


@dataclass(frozen=True)
class PublishedValue:
    """One published number.

    ``rtol`` is the relative tolerance to compare it with the exact value; ``atol`` an absolute
    tolerance (one unit in the last printed digit plus rounding) used instead when set.
    """

    value: float
    kind: str
    source: str
    rtol: float | None = None
    atol: float | None = None
    note: str = ""

    def tolerance(self) -> float:
        """Absolute tolerance for comparing with the exact value."""
        if self.atol is not None:
            return self.atol
        return (self.rtol or 0.0) * abs(self.value)


def _digit_atol(text: str) -> float:
    """One unit in the last printed digit, plus half a unit for rounding."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 1.5 * 10.0 ** (-decimals)


_T1_ROWS = {
    # lambda: FIFO, SJF, SPJF, PSJF, PSPJF, SRPT, SPRPT (kind)
    0.5: ("2.000", "1.713", "1.795", "1.531", "1.664", "1.425", ("1.653", "equation")),
    0.7: ("3.333", "2.312", "2.572", "2.084", "2.397", "1.875", ("2.3684", "simulation")),
    0.8: ("5.000", "2.882", "3.376", "2.659", "3.194", "2.353", ("3.117", "equation")),
    0.9: ("10.000", "4.197", "5.360", "4.052", "5.224", "3.552", ("5.0973", "simulation")),
    0.95: ("20.000", "6.264", "8.654", "6.265", "8.617", "5.541", ("8.322", "equation")),
    0.99: ("100.0", "18.45", "29.05", "18.96", "29.38", "17.63", ("28.73", "equation")),
}
_T1_COLS = ("FCFS", "SJF", "SPJF", "PSJF", "PSPJF", "SRPT")


def _table1() -> dict[tuple[float, str], PublishedValue]:
    src = SOURCES["survey"] + " Table 1 = " + SOURCES["itcs2020"] + " Tables I-II"
    out: dict[tuple[float, str], PublishedValue] = {}
    for lam, row in _T1_ROWS.items():
        for col, text in zip(_T1_COLS, row[:6]):
            if col == "PSPJF" and lam >= 0.95:
                out[(lam, col)] = PublishedValue(
                    float(text), "equation", src, rtol=2e-3,
                    note="published PSPJF sits slightly below the exact integral "
                         "(about 0.02% at 0.95, 0.12% at 0.99)")
            elif col == "FCFS":
                out[(lam, col)] = PublishedValue(float(text), "closed form", src,
                                                 atol=_digit_atol(text))
            else:
                out[(lam, col)] = PublishedValue(float(text), "equation", src,
                                                 atol=_digit_atol(text))
        text, kind = row[6]
        if kind == "equation":
            out[(lam, "SPRPT")] = PublishedValue(
                float(text), kind, src, rtol=1e-2,
                note="the published SPRPT equation values are 0.3-0.9% below the exact "
                     "integral; simulation agrees with the exact integral")
        else:
            out[(lam, "SPRPT")] = PublishedValue(float(text), kind, src, rtol=2e-3,
                                                 note="ITCS 2020 simulation value")
    return out


#: Survey Table 1: M/M/1 with exponential predictions Y | S = x ~ Exp(mean x).
TABLE1 = _table1()

#: Survey Table 2: one bit of advice, exponential service, at the optimal threshold.
#: Keys (lambda, variant, preemptive) with variant "threshold" (V = S) or "prediction" (V = Y).
TABLE2 = {
    (lam, var, pre): PublishedValue(val, "simulation (probably)",
                                    SOURCES["survey"] + " Table 2 = " + SOURCES["advice"]
                                    + " Table 1", rtol=2e-3)
    for lam, vals in {0.5: (1.783, 1.564, 1.850, 1.698), 0.7: (2.542, 2.203, 2.761, 2.517),
                      0.9: (5.278, 4.755, 6.366, 5.960)}.items()
    for (var, pre), val in zip((("threshold", False), ("threshold", True),
                                ("prediction", False), ("prediction", True)), vals)
}

_T3_SRC = SOURCES["survey"] + " Table 3 = " + SOURCES["advice"] + " Table 2"
#: Survey Table 3: Weibull sizes F(x) = 1 - exp(-sqrt(2x)); SPRPT with exponential predictions.
TABLE3 = {}
for _lam, (_fifo, _srpt, _sprpt) in {
    0.5: ("4.00", 1.411, 1.940), 0.6: ("5.50", 1.574, 2.280), 0.7: ("8.00", 1.813, 2.750),
    0.8: ("13.00", 2.217, 3.519), 0.9: ("29.00", 3.154, 5.224), 0.95: ("58.00", 4.517, 7.788),
    0.98: ("148.00", 7.666, 13.404),
}.items():
    _rt = 3e-3 if _lam <= 0.9 else 1e-2
    TABLE3[(_lam, "FCFS")] = PublishedValue(
        float(_fifo), "closed form", _T3_SRC, atol=_digit_atol(_fifo),
        note="typo: the exact Pollaczek-Khinchine value is 1 + 3*0.9/0.1 = 28" if _lam == 0.9
        else "")
    TABLE3[(_lam, "SRPT")] = PublishedValue(_srpt, "simulation (probably)", _T3_SRC, rtol=_rt)
    TABLE3[(_lam, "SPRPT")] = PublishedValue(_sprpt, "simulation (probably)", _T3_SRC, rtol=_rt)
