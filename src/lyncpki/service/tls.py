"""Client certificates for the CA service: uvicorn does not hand the TLS peer certificate to
the application, so this HTTP protocol puts it into the connection's ASGI `state` (copied into
every request's scope), where the authenticator finds it."""

from __future__ import annotations

import asyncio

from lyncpki.service.header_limits import HeaderLimitsProtocol

PEER_CERTIFICATE = "lyncpki_tls_peer_certificate"  # DER, in scope["state"]
PROTOCOL = "lyncpki.service.tls:PeerCertificateProtocol"  # for uvicorn's `http=`


class PeerCertificateProtocol(HeaderLimitsProtocol):
    """uvicorn's httptools protocol with OCSP answered at once (`ocsp_protocol`), a deadline
    for each request's headers (`header_limits`), plus the peer certificate of a TLS
    connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app_state = {**self.app_state, PEER_CERTIFICATE: der}
