from lyncpki.cli.main import main

main()
