"""Job-size distributions: pdf, cdf, moments, partial moments, sampling, symbolic forms.

``DISTRIBUTIONS`` maps each class's short ``name`` (e.g. ``"weibull"``) to the
class, for registries such as the command line.
"""

from .base import SizeDistribution
from .continuous import *  # noqa: F401,F403
from .continuous import __all__ as _continuous_all
from .discrete import *  # noqa: F401,F403
from .discrete import __all__ as _discrete_all
from .scipy_wrapper import ScipyDistribution

__all__ = ["SizeDistribution", *_continuous_all, *_discrete_all, "ScipyDistribution"]

#: Short name -> class, for every concrete distribution (used by the CLI registry).
DISTRIBUTIONS: dict[str, type[SizeDistribution]] = {
    cls.name: cls for cls in (globals()[n] for n in __all__) if cls is not SizeDistribution
}
