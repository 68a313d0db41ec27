"""The request workflow of a Lync server (Request/Import/Set/Get/Remove-CsCertificate): plan ->
request (online to a CA service, or a .req file for any CA) -> import the answer -> assign."""
