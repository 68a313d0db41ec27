from lyncpki.cli.entry import main

main()
