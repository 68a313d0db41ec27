"""The Certificate Wizard of the Lync Deployment Wizard (seed 002), page by page, in a
terminal: Request / Assign / Import / Export, with Back on every page. The pages fill the same
request object as the `lyncpki request` flags; the prompts sit apart (prompter.py)."""
