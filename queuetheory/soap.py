"""The generic SOAP engine (being written)."""

__all__: list[str] = []


def mean_response_time(policy, workload, *, rtol=1e-10):
    raise NotImplementedError("the SOAP engine is being written")


def response_time(policy, workload, x, y=None, *, rtol=1e-10):
    raise NotImplementedError("the SOAP engine is being written")
