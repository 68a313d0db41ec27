"""`lyncpki deploy`: a topology in, every server holding its assigned, checked certificates
out, proved by mutual TLS on loopback. Orchestrates planning, the CA, enrollment, the stores
and the checks; it sits above them all and below the interfaces."""
