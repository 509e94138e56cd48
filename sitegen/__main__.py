from sitegen.cli.main import main

main()
