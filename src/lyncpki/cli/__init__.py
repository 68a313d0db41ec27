"""The `lyncpki` command line: parses, calls the domain, renders. No rules live here."""
