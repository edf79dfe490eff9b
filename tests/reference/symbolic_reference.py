"""Independent mpmath reference values for tests/test_symbolic*.py.

Written separately from queuetheory.symbolic: every value is computed here
with plain mpmath from the *definitions* (double/single integrals over the
joint density, formulas.md §1, §3.2, §9), or from the hand-typed Bessel-K
formulas of formulas.md §9, never from the package. Run

    python tests/reference/symbolic_reference.py

to print the values pasted into the tests (30 significant digits).
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 40


def K(n, z):
    return mp.besselk(n, z)


# ---------------------------------------------------------------- §9 building blocks
def fy_def(y):
    """f_Y(y) = ∫ e^{-x} (1/x) e^{-y/x} dx (definition)."""
    return mp.quad(lambda x: mp.exp(-x - y / x) / x, [0, y, 1, mp.inf])


def m2_below_def(y):
    """M2'(y) = E[S^2 1(Y <= y)] = ∫ x^2 e^{-x} (1 - e^{-y/x}) dx."""
    return mp.quad(lambda x: x**2 * mp.exp(-x) * (-mp.expm1(-y / x)), [0, y, 1, mp.inf])


def old_sprpt_def(y):
    """E[((S - (Y - y))^+)^2 1(Y > y)] as a double integral over (s, t) of the joint density."""
    def inner(s):
        return mp.quad(lambda t: (s - t + y) ** 2 * mp.exp(-t / s) / s, [y, y + s])
    return mp.quad(lambda s: mp.exp(-s) * inner(s), [0, y, 1, mp.inf])


def uniform_fy_def(y, a):
    """Uniform predictions, S ~ Exp(1): f_Y(y) = ∫_{y/(1+a)}^{y/(1-a)} e^{-x}/(2 a x) dx."""
    return mp.quad(lambda x: mp.exp(-x) / (2 * a * x), [y / (1 + a), y / (1 - a)])


# --------------------------------------------------------------- overall means, §9
def sprpt_mean(lam):
    """SPRPT, S ~ Exp(1), Y | S ~ Exp(mean S): the one-dimensional formula of §9."""
    def rho_p(y):
        return lam * (1 - 2 * y * K(2, 2 * mp.sqrt(y)))

    def waiting(v):  # y = v^2
        y = v * v
        r = 2 * mp.sqrt(y)
        b3 = 2 * y**1.5 * K(3, r)
        return 2 * v * lam * 2 * K(0, r) * (1 - b3 / mp.e) / (1 - rho_p(y)) ** 2

    def residence(v):
        y = v * v
        return 2 * v * 2 * mp.sqrt(y) * K(1, 2 * mp.sqrt(y)) / (1 - rho_p(y))

    return (mp.quad(waiting, [0, 1, 3, mp.inf]) + 1 / mp.e
            + (1 - 1 / mp.e) * mp.quad(residence, [0, 1, 3, mp.inf]))


def spjf_mean(lam):
    """SPJF, same model: 1 + λ ∫ f_Y/(1 - ρ')² dy (§9)."""
    def g(v):
        y = v * v
        r = 2 * mp.sqrt(y)
        return 2 * v * 2 * K(0, r) / (1 - lam * (1 - 2 * y * K(2, r))) ** 2
    return 1 + lam * mp.quad(g, [0, 1, 3, mp.inf])


def srpt_mm1_mean(lam):
    """M/M/1 SRPT by the Fubini form of §3.3 with the §2.6 closed forms."""
    def rho(x):
        return lam * (1 - (1 + x) * mp.exp(-x))

    def w(x):
        return mp.exp(-x) * lam * 2 * (1 - (1 + x) * mp.exp(-x)) / (2 * (1 - rho(x)) ** 2)

    def r(t):
        return mp.exp(-t) / (1 - rho(t))

    return mp.quad(w, [0, 1, 5, mp.inf]) + mp.quad(r, [0, 1, 5, mp.inf])


if __name__ == "__main__":
    for y in (mp.mpf("0.3"), mp.mpf("1.7")):
        print("y =", y)
        print("  f_Y      ", mp.nstr(fy_def(y), 30))
        print("  M2'      ", mp.nstr(m2_below_def(y), 30))
        print("  old SPRPT", mp.nstr(old_sprpt_def(y), 30))
        print("  uniform(1/2) f_Y", mp.nstr(uniform_fy_def(y, mp.mpf(1) / 2), 30))
    for lam in (mp.mpf(4) / 5, mp.mpf(7) / 10):
        print("lambda =", lam)
        print("  SPRPT mean", mp.nstr(sprpt_mean(lam), 30))
        print("  SPJF mean ", mp.nstr(spjf_mean(lam), 30))
        print("  SRPT M/M/1", mp.nstr(srpt_mm1_mean(lam), 30))
