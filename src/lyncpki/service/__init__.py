"""The CA on the network (FastAPI): enrollment API, CRL/AIA distribution, OCSP, CA accounts."""
