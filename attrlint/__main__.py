from attrlint.cli import main

main()
