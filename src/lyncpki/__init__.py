"""lyncpki: the certificate infrastructure of a Lync Server 2013 / Skype for Business deployment."""

__version__ = "0.1.0"
