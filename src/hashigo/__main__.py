from hashigo.cli import main

main()
